"""GLM-ASR-Nano checkpoint -> ONNX converter, tiny test models and parity goldens."""

__version__ = "0.1.0"
