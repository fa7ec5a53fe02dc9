"""The journal hash chain (GoBD Unveränderbarkeit): canonical form and entry hash (``canonical``),
streaming verification (``verify``) and the period closing hash (``closing``). Stdlib only, so the
offline verifier (``ledgerlou.verify``) runs anywhere."""
