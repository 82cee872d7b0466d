"""Decoders: model + point prefix -> candidate CAD programs (every output parses or is reported)."""

from backend.decode.autoregressive import DecodeResult, DecodeStats, decode_autoregressive
from backend.decode.unmask import decode_unmask

DECODERS = {"ar": decode_autoregressive, "unmask": decode_unmask}

__all__ = ["DECODERS", "DecodeResult", "DecodeStats", "decode_autoregressive", "decode_unmask"]
