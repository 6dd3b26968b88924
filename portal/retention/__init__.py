"""The retention store: what the law keeps after a withdrawal, apart and encrypted, and the
purge that destroys it when its period is over (PRODUCT.md §6, policy §3)."""
