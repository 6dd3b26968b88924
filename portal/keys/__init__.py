"""Data-key rotation (``flask keys rotate``): re-encrypt every encrypted column under the
newest key of PORTAL_DATA_KEYS. Above admin, since staff OTP secrets are encrypted too."""
