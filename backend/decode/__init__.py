"""Decoders: model + point prefix -> candidate CAD programs (every output parses or is reported)."""

from backend.decode.autoregressive import DecodeResult, DecodeStats, decode_autoregressive

DECODERS = {"ar": decode_autoregressive}

__all__ = ["DECODERS", "DecodeResult", "DecodeStats", "decode_autoregressive"]
