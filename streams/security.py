"""Kafka connection security: the one place that turns ``KHABAR_KAFKA__*`` into client options.

Every Kafka client khabar opens goes through these functions, so PLAINTEXT, SSL,
SASL_PLAINTEXT and SASL_SSL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) behave the same in
the worker, ``topics create``, ``replay`` and the collectors:

* :func:`faust_credentials` for ``faust.App(broker_credentials=...)``;
* :func:`aiokafka_kwargs` for ``AIOKafkaProducer``/``AIOKafkaConsumer``/``AIOKafkaAdminClient``.

Secrets are unwrapped from ``SecretStr`` only here, at the moment a client needs them.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

from aiokafka.helpers import create_ssl_context

from khabar.config import KafkaSecurity
from streams.errors import BrokerError

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT


class SecurityConfigError(BrokerError):
    """The TLS material named in the settings cannot be loaded."""


def ssl_context(security: KafkaSecurity) -> ssl.SSLContext | None:
    """The client TLS context for ``security``, or ``None`` when the protocol has no TLS.

    Raises:
        SecurityConfigError: A certificate, key or CA file cannot be loaded (wrong format,
            wrong key password, key not matching the certificate).
    """
    if not security.uses_tls:
        return None
    try:
        context = create_ssl_context(
            cafile=security.ssl_cafile,
            certfile=security.ssl_certfile,
            keyfile=security.ssl_keyfile,
            password=security.ssl_key_password.get_secret_value() if security.ssl_key_password else None,
        )
    except (ssl.SSLError, OSError, ValueError) as exc:
        # the message names files, never the key password
        raise SecurityConfigError(f"cannot load the TLS material of KHABAR_KAFKA__*: {exc}") from None
    # create_ssl_context always checks host names; the setting is the documented escape hatch
    context.check_hostname = security.ssl_check_hostname
    return context


def faust_credentials(security: KafkaSecurity) -> CredentialsT | None:
    """Faust ``broker_credentials`` for ``security`` (``None`` for PLAINTEXT).

    Faust derives the protocol from the credentials type: ``SSLCredentials`` is SSL,
    ``SASLCredentials`` is SASL_PLAINTEXT, or SASL_SSL when it carries a TLS context.
    """
    # imported here: importing faust reads ``--loop`` from sys.argv, which ``khabar replay``
    # uses for something else
    import faust

    context = ssl_context(security)
    if security.uses_sasl:
        return faust.SASLCredentials(
            username=security.username,
            password=security.password.get_secret_value() if security.password else None,
            ssl_context=context,
            mechanism=security.sasl_mechanism,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def aiokafka_kwargs(security: KafkaSecurity | None) -> dict[str, Any]:
    """Keyword arguments that give an aiokafka client the protocol, TLS and SASL of ``security``.

    ``None`` (callers that predate the settings group) means PLAINTEXT.
    """
    if security is None or security.security_protocol == "PLAINTEXT":
        return {"security_protocol": "PLAINTEXT"}
    kwargs: dict[str, Any] = {"security_protocol": security.security_protocol}
    context = ssl_context(security)
    if context is not None:
        kwargs["ssl_context"] = context
    if security.uses_sasl:
        kwargs["sasl_mechanism"] = security.sasl_mechanism
        kwargs["sasl_plain_username"] = security.username
        kwargs["sasl_plain_password"] = security.password.get_secret_value() if security.password else None
    return kwargs
