"""Stage 1 — the model: physical constants, the six parameters of two HNLs (Casas–Ibarra Yukawas, mixings,
h-basis bilinears, δM(0)) and the paper's benchmark points."""
