"""Silero VAD run by onnxruntime-Python as silero-vad's own OnnxWrapper runs it: the reference for src/core/live."""
