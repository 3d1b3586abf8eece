"""Model loading: which spaCy pipeline analyses the reports, and the components reportminer adds to it.

Resolution order: an explicit model (package name or path) wins; else ``de_core_news_md`` if installed;
else the German NER model bundled with reportminer (trained by ``training/`` on GermEval 2014).
The choice is logged and recorded in the outputs.
"""

from __future__ import annotations

import importlib.util
import logging
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


@lru_cache(maxsize=4)
def _load(target: str, source: str) -> Language:
    import reportminer.dates  # noqa: F401  (registers the "reportminer_dates" factory)
    import reportminer.entities  # noqa: F401  (registers the "reportminer_entity_rules" factory)

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
