"""Reference implementations the accuracy report's TypeScript (eval/) is checked against: Whisper's normalizers (openai-whisper) and jiwer's WER/CER counts."""
