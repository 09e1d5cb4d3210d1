"""Canonical URL keys: the same page crawled twice must get the same key.

Shapes seen in SaudiNewsNet (``khabar eval dedup`` counts them):

* al-madina serves every page also as ``...html?weekly`` and ``...html?live``
  (454 of its 2,252 articles, 20%, are such re-crawls);
* aawsat re-publishes an edited article under the same numeric id with a new
  slug (``/home/article/413931/<old title>`` and ``.../<new title>``);
* al-watan and SPA carry the id in the query (``News_Detail.aspx?ArticleID=...``,
  ``details.php?id=...``), so there the query IS the page.

The key is ``host/path[?id-params]``: scheme dropped (http and https are the
same page), host lower-cased without ``www.`` and default ports, fragment
dropped, tracking and flag parameters dropped, and the path cut after a numeric
article id so that slugs after it do not matter.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

#: Query parameters that identify the article: when one is present the query is
#: reduced to it alone (others, like al-watan's ``CategoryID``, only change the menu).
ID_PARAMS = ("id", "articleid", "article_id", "newsid", "news_id", "nid", "p", "storyid", "sid")
#: Query parameters that never identify a page (analytics, sharing, paging of comments).
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "ref", "source", "share", "amp", "output", "print", "from", "src",
     "weekly", "live", "mobile", "m", "view", "page_comments"}
)
#: A path segment that is an article id: 5+ digits. Dates (8 digits like 20150721 or
#: 4-digit years) are excluded so ``/2015/20150721/fe1.htm`` keeps its file name.
_ID_SEGMENT = re.compile(r"\d{5,}")
_DATE_SEGMENT = re.compile(r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


def _is_slug(segment: str) -> bool:
    """A human-readable title fragment: has a hyphen/space or non-ASCII letters."""
    return "-" in segment or " " in segment or not segment.isascii()


def canonical_url(url: str | None) -> str | None:
    """The canonical form of ``url``, or None when there is no usable URL.

    Args:
        url: The article URL as crawled; may be None, empty or malformed.

    Returns:
        ``host/path[?query]`` as described in the module docstring, or None.
    """
    if not url or not url.strip():
        return None
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:  # e.g. a non-numeric port: never crash on odd input
        return None
    if not host:
        return None
    host = host.removeprefix("www.")
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    segments = [unquote(s) for s in parts.path.split("/") if s]
    # Cut after the last numeric id segment when only slugs follow it.
    for i in range(len(segments) - 1, -1, -1):
        seg = segments[i]
        if _ID_SEGMENT.fullmatch(seg) and not _DATE_SEGMENT.fullmatch(seg):
            if all(_is_slug(s) for s in segments[i + 1 :]):
                segments = segments[: i + 1]
            break
    path = "/".join(segments)
    params = [(k.lower(), v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    ids = [(k, v) for k, v in params if k in ID_PARAMS and v]
    if ids:
        # The query is the id: keep the most specific id parameter only.
        ids.sort(key=lambda kv: ID_PARAMS.index(kv[0]))
        kept = [ids[0]]
    else:
        kept = sorted(
            (k, v) for k, v in params
            if v and k not in TRACKING_PARAMS and not k.startswith("utm_")
        )
    query = "&".join(f"{k}={v}" for k, v in kept)
    return f"{host}/{path}" + (f"?{query}" if query else "")
