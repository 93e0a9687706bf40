"""archive.mozilla.org keys and URLs → build records (Buildhub v1's path rules, T1-T5, T10, T11).

Buildhub v1 never read the archives: it guessed product, version, platform, locale and channel
from the path, then merged a metadata file published next to it (`archive_metadata`). The rules
and their quirks are in upstream.md §3; the upstream test tables T1-T5 pin them.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from shipgauge.errors import SourceError

__all__ = [
    "ARCHIVE_EXTENSIONS",
    "OS_NAMES",
    "PRODUCT_FOLDERS",
    "archive_folder_url",
    "build_number",
    "build_record_id",
    "build_url_refusal",
    "guess_channel",
    "guess_mimetype",
    "is_build_url",
    "key_to_archive_url",
    "normalized_os",
    "product_name",
    "record_from_url",
    "version_sort_key",
]

# Archive folders Buildhub catalogs (`mobile` holds Fennec).
PRODUCT_FOLDERS = ("firefox", "thunderbird", "mobile", "devedition")
# v1's list plus tar.xz, which Firefox for Linux has shipped since 2024 (upstream.md §3.2). msi,
# pkg and msix are left out: they would collide with the .exe/.dmg record of the same build.
ARCHIVE_EXTENSIONS = ("zip", "tar.gz", "tar.bz2", "tar.xz", "dmg", "apk", "exe")
_MIMETYPES = {
    "apk": "application/vnd.android.package-archive",
    "bz2": "application/x-bzip2",
    "zip": "application/zip",
    "dmg": "application/x-apple-diskimage",
    "gz": "application/x-gzip",
    "xz": "application/x-xz",
    "exe": "application/msdos-windows",
}
_EXCLUDED_PARTS = (
    "tinderbox",
    "try-builds",
    "partner-repacks",
    "latest",
    "contrib",
    "/0.",
    "experimental",
    "namoroka",
    "debug",
    "sha1-installers",
    "candidates/archived",
    "stylo-bindings",
    "/1.0rc/",
    "dominspector",
    "/test/",
    "testing",
)
_EXCLUDED_PATTERNS = re.compile(
    r"/releases/win..?/"  # wince, winmo
    r"|%28.*%29"  # parenthesised names of the 1.0 era
    r"| Installer\.[\w-]+\.exe$"  # nightly stub installers
)
_EXCLUDED_NAMES = re.compile(r".+(sdk|tests|crashreporter|stub|gtk2.+xft|source|asan)")
OS_NAMES = ("linux", "win", "mac", "android", "maemo")
_BUILD_NUMBER = re.compile(r"build(\d+)")
_VERSION_PARTS = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:(esr|a|b|rc)(\d*))?")
_RELEASE_CODES = {"a": "a", "b": "b", "rc": "c", "esr": "x", None: "r"}


def product_name(folder: str) -> str:
    """The product of an archive folder: `mobile` holds Fennec."""
    return "fennec" if folder == "mobile" else folder


def _file_prefix(product: str) -> str:
    if product in ("firefox", "devedition"):
        return "firefox"
    return "fennec" if product in ("mobile", "fennec") else "thunderbird"


def key_to_archive_url(key: str, archive_url: str) -> str:
    """An S3 key (inventory CSV or event, `+` for spaces) → its archive URL, as v1 wrote it.

    v1 only turns `+` into spaces and never percent-decodes (upstream.md §1.3).

    >>> key_to_archive_url("pub/firefox/releases/54.0/win64/fr/Firefox+Setup+54.0.exe", "https://a.org")
    'https://a.org/pub/firefox/releases/54.0/win64/fr/Firefox Setup 54.0.exe'
    """
    return f"{archive_url.rstrip('/')}/{key.replace('+', ' ')}"


def is_build_url(product: str, url: str) -> bool:
    """Whether `url` (or a bare file name) is a build archive of `product` (T2, T3)."""
    return build_url_refusal(product, url) is None


def build_url_refusal(product: str, url: str) -> str | None:
    """The rule that keeps `url` from being a build archive of `product`; None if none does."""
    if "nightly" in url and "mozilla-central" not in url and "comm-central" not in url:
        return "a nightly outside mozilla-central and comm-central"
    tail = url[1:]
    excluded = next((part for part in _EXCLUDED_PARTS if part in tail), None)
    if excluded is not None:
        return f"excluded path part {excluded!r}"
    pattern = _EXCLUDED_PATTERNS.search(url)
    if pattern is not None:
        return f"excluded path pattern {pattern.group(0)!r} (wince/winmo, 1.0-era, stub installer)"
    filename = url.rsplit("/", 1)[-1].replace(" ", "-").lower()
    name = _EXCLUDED_NAMES.match(filename)
    if name is not None:
        return f"excluded file name ({name.group(1)})"
    if _archive_name(_file_prefix(product), "win" in url).match(filename) is None:
        windows = " (only .exe on Windows)" if "win" in url else ""
        return f"not a {_file_prefix(product)}-<version>.<archive extension> file name{windows}"
    return None


@functools.cache
def _archive_name(prefix: str, windows: bool) -> re.Pattern[str]:
    # Only .exe is kept on Windows: a .zip of the same build would share its id (#338).
    extensions = [e for e in ARCHIVE_EXTENSIONS if not (windows and e == "zip")]
    return re.compile(rf"{prefix}-(.+)({'|'.join(re.escape(e) for e in extensions)})$")


def guess_mimetype(url: str) -> str | None:
    """The mimetype v1 gave an archive, from its last extension (T4); None if unknown."""
    return _MIMETYPES.get(url.rsplit(".", 1)[-1].lower())


def normalized_os(platform: str) -> str:
    """The OS family of an archive platform token (T5); raises SourceError if none fits."""
    lowered = platform.lower()
    if "eabi" in lowered:
        return "android"
    for name in OS_NAMES:
        if name in lowered:
            return name
    raise SourceError(
        f"platform '{platform}' is not one of {', '.join(OS_NAMES)}", field="platform"
    )


def guess_channel(url: str, version: str) -> str:
    """The update channel v1 guessed from the path; archive metadata may override it later."""
    if "nightly" in url:
        channel = "aurora" if "aurora" in url else "nightly"
    elif "b" in version:
        channel = "aurora" if "devedition" in url else "beta"
    elif version.endswith("esr"):
        channel = "esr"
    else:
        channel = "release"
    return f"{channel}-old-id" if "old-id" in url else channel


def _localized(locale: str) -> str:
    # Lower-casing the URL loses the region's case: `zh-tw` → `zh-TW`, `ja-jp-mac` → `ja-JP-mac`.
    tokens = locale.split("-")
    if len(tokens) > 1:
        tokens[1] = tokens[1].upper()
    return "-".join(tokens)


def _from_file_name(filename: str) -> tuple[str, str, str]:
    parts = filename.split(".")
    if len(parts) < 4 or "-" not in parts[0]:
        raise SourceError(f"cannot read version.locale.platform from '{filename}'", field="key")
    return f"{parts[0].split('-', 1)[1]}.{parts[1]}", parts[2], parts[3]


def _url_parts(url: str) -> list[str]:
    # v1 indexed the split `https://archive.mozilla.org/...` URL; keep its indices for any host.
    path = url.split("://", 1)[-1].split("/", 1)[-1]
    return ["https:", "", "archive", *path.replace(" ", "-").lower().split("/")]


def record_from_url(url: str) -> dict[str, Any]:
    """The record v1 derived from an archive URL alone, with its v1 `id` (T1).

    Raises SourceError when the path has too few parts or an unknown platform.
    """
    parts = _url_parts(url)
    if len(parts) < 8:
        raise SourceError(f"archive path too short to hold a build: {url}", field="key")
    product = product_name(parts[4])
    if "nightly" in url:
        version, locale, platform = _from_file_name(parts[-1])
        if len(parts) > 8 and "android-api" in parts[8]:
            platform = "-".join(parts[8].split("-")[8:11])
    elif "candidates" in url:
        if len(parts) < 10:
            raise SourceError(f"candidates path too short to hold a build: {url}", field="key")
        build = "".join(c for c in parts[7] if c.isdigit())
        version = f"{parts[6].removesuffix('-candidates')}rc{build}"
        if len(parts) > 10 and "funnelcake" in parts[8]:
            version, platform, locale = f"{version}-{parts[8]}", parts[9], parts[10]
        else:
            platform, locale = parts[8], parts[9]
    elif len(parts) < 9:
        version, locale, platform = _from_file_name(parts[-1])
    elif len(parts) == 11:
        version, platform, locale = parts[6], parts[8], parts[9]
    else:
        version, platform, locale = parts[6], parts[7], parts[8]
    if platform.startswith("mac") and not platform.startswith("macosx"):
        platform = "macosx" + platform[3:]
    record: dict[str, Any] = {
        "source": {"product": product},
        "target": {
            "version": version,
            "platform": platform,
            "os": normalized_os(platform),
            "locale": _localized(locale),
            "channel": guess_channel(url, version),
        },
        "download": {"url": url, "mimetype": guess_mimetype(url)},
    }
    return {"id": build_record_id(record), **record}


def build_record_id(record: dict[str, Any]) -> str:
    """v1's record id: `{product}_{channel_}{version}_{platform}_{locale}`, `.`→`-`, lower-cased.

    `release` drops its channel prefix (ESR keeps it); nightlies prefix the version with the
    first six `-` tokens of their dated folder (upstream.md §2.2).
    """
    target = record["target"]
    channel = target["channel"]
    version = target["version"]
    if "nightly" in channel:
        folders = record["download"]["url"].split("/")
        if len(folders) < 9:
            raise SourceError(f"nightly path lacks its dated folder: {folders[-1]}", field="key")
        dated = folders[8]
        version = "-".join(dated.split("-")[:6]) + "_" + version
    prefix = "" if channel == "release" else f"{channel}_"
    raw = f"{record['source']['product']}_{prefix}{version}_{target['platform']}_{target['locale']}"
    return raw.replace(".", "-").lower()


def archive_folder_url(
    archive_url: str,
    product: str,
    version: str,
    platform: str,
    locale: str,
    *,
    nightly: str | None = None,
    candidate: str | None = None,
) -> str:
    """The archive folder of a build (T10): releases, a nightly month, or a candidates build."""
    base = f"{archive_url.rstrip('/')}/pub/{'mobile' if product == 'fennec' else product}/"
    if nightly:
        return f"{base}nightly/{nightly}/"
    if candidate:
        build = f"{candidate.strip('/')}/" if candidate.strip("/") else ""
        return f"{base}candidates/{version}-candidates/{build}{platform}/{locale}/"
    return f"{base}releases/{version}/{platform}/{locale}/"


def build_number(url: str) -> int | None:
    """The N of `buildN` in a candidates path (v1 kept only the last digit; we keep all)."""
    match = _BUILD_NUMBER.search(url)
    return int(match.group(1)) if match else None


@functools.lru_cache(maxsize=4096)
def version_sort_key(version: str) -> str:
    """A key that sorts versions numerically (T11): `MMMmmmppp` + release code + 3-digit number.

    Codes: `a` alpha/nightly, `b` beta, `c` release candidate, `r` release, `x` ESR.

    >>> version_sort_key("45.9.0esr"), version_sort_key("54.0b1")
    ('045009000x000', '054000000b001')
    """
    match = _VERSION_PARTS.match(version)
    if match is None:
        return ""
    major, minor, patch, code, number = match.groups()
    digits = "".join(f"{int(p or 0):03d}" for p in (major, minor, patch))
    pre = int(number) if number and code != "esr" else 0
    return f"{digits}{_RELEASE_CODES[code]}{pre:03d}"
