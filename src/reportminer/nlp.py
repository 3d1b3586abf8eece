"""Model loading: which spaCy pipeline analyses the reports, and the components reportminer adds to it.

Resolution order: an explicit model (package name or path) wins; else ``de_core_news_md`` if installed;
else the German NER model bundled with reportminer (trained by ``training/`` on GermEval 2014).
The choice is logged and recorded in the outputs.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language

from reportminer.errors import ModelError

log = logging.getLogger(__name__)

BUNDLED_MODEL_PATH = Path(__file__).parent / "models" / "de_reportminer_ner"
PREFERRED_PACKAGE = "de_core_news_md"


@dataclass(frozen=True)
class ModelChoice:
    """The pipeline to load: ``target`` is a package name or a path; ``source`` says why it was chosen."""

    target: str
    source: str  # "explicit" | "installed" | "bundled"


def resolve_model(model: str | None = None) -> ModelChoice:
    """Pick the pipeline: explicit ``model`` > installed de_core_news_md > bundled model."""
    if model:
        return ModelChoice(str(model), "explicit")
    if importlib.util.find_spec(PREFERRED_PACKAGE) is not None:
        return ModelChoice(PREFERRED_PACKAGE, "installed")
    if not (BUNDLED_MODEL_PATH / "meta.json").exists():
        raise ModelError(
            f"the bundled model is missing at {BUNDLED_MODEL_PATH}; reinstall reportminer, "
            f"install {PREFERRED_PACKAGE}, or pass --model"
        )
    return ModelChoice(str(BUNDLED_MODEL_PATH), "bundled")


def load_pipeline(model: str | None = None) -> Language:
    """Load (once per process) the resolved pipeline with sentence splitting and the date tagger added."""
    choice = resolve_model(model)
    return _load(choice.target, choice.source)


MALLOC_MMAP_THRESHOLD = 32 * 2**20
MALLOC_TRIM_THRESHOLD = 256 * 2**20
BUILD_MMAP_THRESHOLD, BUILD_TRIM_THRESHOLD = 4 * 2**20, 8 * 2**20  # after the analysis, see release_malloc
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # <malloc.h>


def tune_malloc() -> bool:
    """Keep spaCy's batch arrays in glibc's heap instead of fresh ``mmap`` pages; True when applied.

    Each ``nlp.pipe`` batch allocates and frees arrays of a few MB. glibc serves blocks above its
    mmap threshold with new pages and gives freed memory at the heap's top back to the system past its
    trim threshold; both thresholds move with the process's history. In a run, where the Python objects
    kept between batches sit among those arrays, the process then faults in fresh pages batch after
    batch: over 640 reports, 614,000 minor page faults against 138,000 for a bare ``nlp.pipe`` loop,
    and 53.8 s against 50.3 s with the fixed thresholds set here (raw spaCy: 44.7 s; reportminer and raw
    taking turns as in ``benchmarks/throughput.py``). 32 MB is glibc's largest mmap threshold; the
    256 MB trim threshold keeps freed arrays for the next batch. Linux with glibc only; a
    ``GLIBC_TUNABLES`` or ``MALLOC_*_`` setting of the user's wins. Process-wide: applied when the model
    loads and by ``run_pipeline`` before its analysis; :func:`release_malloc` undoes it.
    """
    libc = _glibc()
    return libc is not None and _set_thresholds(libc, MALLOC_MMAP_THRESHOLD, MALLOC_TRIM_THRESHOLD)


def release_malloc() -> bool:
    """Thresholds for the build, and the heap's free memory given back to the system; True when applied.
    ``run_pipeline`` calls it after the analysis. Blocks above 4 MB (a table's columns, the build's large
    arrays, which live once each) are mapped and unmapped; smaller ones, such as the arrays each NMF
    iteration of the theme fit allocates and frees, come from the heap, which keeps up to 8 MB free at its
    top. Not glibc's starting thresholds of 128 KB: once ``mallopt`` has set them, glibc no longer raises
    them as it does by default, and each NMF iteration faulted in fresh pages (1,600 reports: the theme
    consensus took 11.8 s with them, 3.3 s with these, the build's peak memory 659 and 651 MB). Not the
    analysis's thresholds either: with them the peak memory of a 10,000-report run grew from 871 MB at
    2,500 reports to 947 MB."""
    libc = _glibc()
    if libc is None:
        return False
    done = _set_thresholds(libc, BUILD_MMAP_THRESHOLD, BUILD_TRIM_THRESHOLD)
    libc.malloc_trim(0)
    return done


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc on Linux and the user has not set malloc's tunables, else None."""
    if not sys.platform.startswith("linux"):
        return None
    if "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "") or any(
        k.startswith("MALLOC_") and k.endswith("_") for k in os.environ
    ):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt, libc.malloc_trim  # noqa: B018  (both absent outside glibc, e.g. musl)
    except (OSError, AttributeError):
        return None
    return libc


def _set_thresholds(libc: ctypes.CDLL, mmap_threshold: int, trim_threshold: int) -> bool:
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
    )


@lru_cache(maxsize=4)
def _load(target: str, source: str) -> Language:
    import reportminer.dates  # noqa: F401  (registers the "reportminer_dates" factory)
    import reportminer.entities  # noqa: F401  (registers the "reportminer_entity_rules" factory)

    tune_malloc()
    # Components reportminer does not use are left out: they cost time, not quality.
    exclude = ["parser"] if target == PREFERRED_PACKAGE else []
    try:
        nlp = spacy.load(target, exclude=exclude)
    except OSError as exc:
        raise ModelError(
            f"cannot load spaCy model {target!r} ({exc}); give an installed package name or a pipeline folder"
        ) from exc
    if "ner" not in nlp.pipe_names:
        raise ModelError(f"spaCy model {target!r} has no 'ner' component; reportminer needs one")
    if not any(name in nlp.pipe_names for name in ("parser", "senter", "sentencizer")):
        nlp.add_pipe("sentencizer")
    elif "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    nlp.add_pipe("reportminer_entity_rules", after="ner")
    nlp.add_pipe("reportminer_dates", last=True)
    nlp.max_length = 2_000_000
    log.info("spaCy model: %s (%s; %s)", model_name(nlp), source, target)
    return nlp


def model_name(nlp: Language) -> str:
    """``lang_name-version`` of a loaded pipeline, as recorded in the outputs."""
    meta = nlp.meta
    return f"{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}-{meta.get('version', '0.0.0')}"
