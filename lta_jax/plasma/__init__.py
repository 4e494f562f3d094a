"""Stage 2 — the plasma: Standard-Model thermodynamics (g_eff, h_eff, s, H), the electroweak crossover (v(T),
sphaleron rate) and the lepton-number susceptibilities ω̃(T) that turn asymmetries into chemical potentials."""
