"""GLM-ASR-Nano checkpoint -> ONNX converter, tiny test models and parity goldens."""

# Part of a conversion's resume key (convert.py): a conversion left unfinished by an older converter starts over
# instead of reusing graphs this one would export otherwise.  0.2.0: the audio encoder's attention in query blocks,
# recorded in its metadata (2026-12-07).
__version__ = "0.2.0"
