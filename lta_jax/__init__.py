"""lta-jax: differentiable JAX solver for low-scale leptogenesis and late-time lepton asymmetries in the νMSM."""

import jax

# float64 everywhere: asymmetries ~1e-11 sit next to O(1e-3) densities (toolchain.md).
jax.config.update("jax_enable_x64", True)

from .parameters import ModelParameters, NeutrinoData  # noqa: E402

__all__ = ["ModelParameters", "NeutrinoData"]
