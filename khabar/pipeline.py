"""Enrichment components and the pipeline that runs them in configured order.

Like spaCy's pipeline: each stage is a named component built by a registered
factory from its part of :class:`~khabar.config.Settings`; the order comes from
``Settings.pipeline``. A component reads and writes an :class:`ArticleContext`.
Factories import their models lazily, so importing this module does no I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from khabar.budget import stage_budget
from khabar.config import Settings
from khabar.errors import KhabarError, StageError
from khabar.text.boilerplate import boilerplate_spans
from khabar.text.normalize import Doc, make_doc
from schemas.models import Event, Language, RawArticle


@dataclass
class ArticleContext:
    """What the components know about one article, filled in as they run."""

    article: RawArticle
    doc: Doc
    language: Language | None = None
    events: list[Event] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)


class Component(Protocol):
    """A pipeline stage: reads and updates the context in place."""

    name: str

    def __call__(self, ctx: ArticleContext) -> None: ...


ComponentFactory = Callable[[Settings], Component]
_FACTORIES: dict[str, ComponentFactory] = {}


def register(name: str) -> Callable[[ComponentFactory], ComponentFactory]:
    """Register a component factory under ``name`` (the name used in ``Settings.pipeline``)."""

    def deco(factory: ComponentFactory) -> ComponentFactory:
        _FACTORIES[name] = factory
        return factory

    return deco


def prepare_doc(article: RawArticle) -> Doc:
    """The shared normalization pass, with boilerplate marked."""
    return make_doc(article.text, boilerplate_spans(article.text))


class LanguageComponent:
    """Language and Arabic variety (:mod:`khabar.language`)."""

    name = "language"

    def __init__(self, settings: Settings) -> None:
        from khabar.language.detect import get_detector

        self._detector = get_detector(settings.language)

    def __call__(self, ctx: ArticleContext) -> None:
        ctx.language = self._detector.detect(ctx.doc, hint=ctx.article.language_hint)


class EventsComponent:
    """PLOVER events from Arabic text (:mod:`khabar.events`). Skips non-Arabic articles."""

    name = "events"

    def __init__(self, settings: Settings) -> None:
        from khabar.events.extract import get_extractor

        self._extractor = get_extractor(settings.events)

    def __call__(self, ctx: ArticleContext) -> None:
        if ctx.language is not None and ctx.language.code != "ar":
            return
        ctx.events = self._extractor.extract(ctx.doc, ctx.article)


register("language")(LanguageComponent)
register("events")(EventsComponent)

StageTimer = Callable[[str, float], None]


class Pipeline:
    """The configured components, in order.

    Args:
        settings: Which components to run (``settings.pipeline``) and their parameters.
        on_stage: Called with ``(stage name, seconds)`` after each component (metrics).
    """

    def __init__(self, settings: Settings, on_stage: StageTimer | None = None) -> None:
        self.components: list[Component] = [_FACTORIES[name](settings) for name in settings.pipeline]
        self._on_stage = on_stage
        self._budget_ms = settings.limits.stage_budget_ms

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.components]

    def warm(self) -> None:
        """Load every component's models now (a worker does this before consuming, so the
        first article does not stall the event loop for seconds)."""
        for text in ("قصفت القوات مدينة كييف يوم السبت وقال الرئيس إن المحادثات فشلت.",
                     "Officials met in Geneva on Saturday and said the talks had failed."):
            sample = RawArticle(id="warm-up", text=text)  # Latin text loads the fastText model
            ctx = ArticleContext(article=sample, doc=prepare_doc(sample))
            for component in self.components:
                component(ctx)  # no stage budget: loading the models is the slow part here

    def __call__(self, ctx: ArticleContext) -> ArticleContext:
        """Run every component over ``ctx``.

        Raises:
            StageError: A component failed; the caller dead-letters the article.
            StageTimeoutError: A component ran past ``settings.limits.stage_budget_ms``.
        """
        for component in self.components:
            t0 = time.perf_counter()
            try:
                with stage_budget(component.name, self._budget_ms):
                    component(ctx)
            except KhabarError:
                raise
            except Exception as exc:  # a bug in one stage must not take the worker down
                raise StageError(component.name, f"{type(exc).__name__}: {exc}") from exc
            ctx.stages.append(component.name)
            if self._on_stage is not None:
                self._on_stage(component.name, time.perf_counter() - t0)
        return ctx
