"""ozamonitor.synth: the synthetic national population and register generator.

>>> from ozamonitor.synth import generate, SynthParams   # doctest: +SKIP
>>> generate("demo-register", scale=0.01, seed=1)        # doctest: +SKIP
"""

from ozamonitor.synth.generate import DEFAULT_EXTRACTION_DATE, generate
from ozamonitor.synth.params import SynthParams

__all__ = ["DEFAULT_EXTRACTION_DATE", "SynthParams", "generate"]
