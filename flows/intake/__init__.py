"""What ``voc ingest`` does to a file before the warehouse sees it, without Prefect:

- ``discover``: walk the paths given, settle each file's channel;
- ``readahead``: read and parse the next files while the current one is written;
- ``sources/``: one pure parser per channel and format, all giving one record shape;
- ``prepare``: validate, redact, tag the language and give each record its stable id;
- ``pii``: the redaction of personal data;
- ``language``: a contact's language, from its source's tag or its text.

The flow that orders them is ``flows/ingest.py``."""
