"""MiniLM's OpenVINO network → int8, calibrated on the texts in models/calibration.json.

Run by models/embeddings.py in a child process the first time a machine needs the int8
network (about half a minute on 2 cores, once); its result is saved and read back after.

NNCF's post-training quantisation (the transformer preset: attention's softmax and the
layer norms stay in float) gathers the activation ranges of the float network on the
calibration texts and inserts int8 quantise/dequantise pairs around the matrix products,
which OpenVINO's CPU plugin then runs as int8 kernels. The same texts, in the same
batches, give the same network on every run (checked by tests/integration/test_minilm_backends.py).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

BATCH = 32


def calibration_texts() -> list[str]:
    from models.embeddings import CALIBRATION

    return json.loads(CALIBRATION.read_text(encoding="utf-8"))["texts"]


def quantize(source: Path, target: Path) -> None:
    # NNCF reports usage unless its telemetry package cannot be imported (see
    # flows/process_setup.quiet_environment; this runs in a child process of its own)
    sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
    import nncf
    import openvino as ov

    from models.embeddings import MAX_CHARS, minilm_tensors, minilm_tokenizer

    nncf.set_log_level(logging.ERROR)
    tokenizer = minilm_tokenizer()
    texts = [t[:MAX_CHARS] for t in calibration_texts()]
    batches = [minilm_tensors(tokenizer, texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
    network = ov.Core().read_model(str(source))
    quantized = nncf.quantize(
        network,
        nncf.Dataset(batches),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(texts),
    )
    ov.save_model(quantized, str(target), compress_to_fp16=False)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: quantize.py SOURCE_MODEL_XML TARGET_MODEL_XML")
    quantize(Path(args[0]), Path(args[1]))


if __name__ == "__main__":
    main()
