"""Saved plan files: the envelope, the manifest digest that binds a plan to its manifests, and signing.

A plan file (format 2) is, in memory, one envelope::

    {"kind": "accessops-plan", "format": 2,
     "checksum": "<sha256 hex>",
     "manifests": {"paths": [...], "files": [{"path": ..., "sha256": ...}], "settings": {...} | null, "commit": ... | null},
     "signature": {"algorithm": "hmac-sha256", "key_id": "...", "value": "<hex>"},   # only with ACCESSOPS_PLAN_KEY
     "plan": {...}}                                                                   # Plan.to_json()

On disk the plan is the file's top level (Terraform's JSON plan, one line, so
policy tools read the uploaded file itself) and the rest of the envelope sits
under ``accessops_plan_file`` (:mod:`accessops.plan.planfile`); the bytes
the checksum and signature cover are the same either way.

The checksum and the signature cover the same bytes: the canonical JSON
(sorted keys, no spaces, UTF-8) of the envelope without ``checksum`` and
``signature``. The checksum only tells damage apart from a good file; anyone
can recompute it. The signature is an HMAC-SHA256 with the secret
``ACCESSOPS_PLAN_KEY``: only a holder of the key can make one. Neither decides
what is applied: apply re-derives the plan from the manifests the digest names
(see :mod:`accessops.trusted_apply`) and needs the signature only when those
manifests are not at hand.

Format 1 (no ``format`` key, checksum over the plan alone) is still read, so
``show`` works on old files; it cannot be applied.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accessops.errors import ConfigError, FileError, UntrustedPlanError
from accessops.manifest.loader import manifest_files
from accessops.plan.change import Plan
from accessops.plan.compare import printable
from accessops.plan.planfile import from_file, to_file
from accessops.plan.shape import checked_plan, reading_plan_file
from accessops.secrets import redact_text

PLAN_FILE_KIND = "accessops-plan"
PLAN_FILE_FORMAT = 2
KEY_ENV = "ACCESSOPS_PLAN_KEY"
MIN_KEY_LENGTH = 32
SIGNATURE_ALGORITHM = "hmac-sha256"
#: what the checksum and the signature leave out of the bytes they cover
_UNCOVERED = ("checksum", "signature")


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _covered(envelope: dict[str, Any]) -> bytes:
    return canonical({k: v for k, v in envelope.items() if k not in _UNCOVERED})


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _label(root: str, file: Path, root_path: Path) -> str:
    """A file's name in the digest: the manifest path as given, then the file's place under it (POSIX)."""
    if not root_path.is_dir():
        return Path(root).as_posix()
    rel = file.relative_to(root_path).as_posix()
    return rel if root in (".", "") else f"{Path(root).as_posix().rstrip('/')}/{rel}"


# --- the manifest digest ---------------------------------------------------------------------------


def manifest_digest(paths: list[str], settings_file: Path | None, *, labels: list[str] | None = None) -> dict[str, Any]:
    """Each manifest file's path and content SHA-256, the settings file's, and the git commit.

    ``labels`` name the roots in the digest instead of ``paths`` (apply with
    ``--manifests`` names the files as the plan recorded them).
    """
    from accessops.apply.state import git_commit

    names = labels if labels is not None else paths
    files = []
    for root, name in zip(paths, names):
        for file in manifest_files([root]):
            files.append({"path": _label(name, file, Path(root)), "sha256": _sha256_file(file)})
    settings = {"path": settings_file.name, "sha256": _sha256_file(settings_file)} if settings_file else None
    return {
        "paths": [Path(n).as_posix() for n in names],
        "files": sorted(files, key=lambda f: f["path"]),
        "settings": settings,
        "commit": git_commit(Path(paths[0]) if paths else Path.cwd()),
    }


def digest_differences(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """How the manifests at hand differ from those a plan recorded (the commit is for the record only)."""
    was = {f["path"]: f["sha256"] for f in recorded.get("files", [])}
    has = {f["path"]: f["sha256"] for f in now.get("files", [])}
    # recorded names come from the plan file: never print them raw
    out = [f"{printable(p)} changed" for p in sorted(was.keys() & has.keys()) if was[p] != has[p]]
    out += [f"{printable(p)} is new" for p in sorted(has.keys() - was.keys())]
    out += [f"{printable(p)} is gone" for p in sorted(was.keys() - has.keys())]
    old_settings, new_settings = recorded.get("settings"), now.get("settings")
    if (old_settings or {}).get("sha256") != (new_settings or {}).get("sha256"):
        out.append("the settings file (accessops.toml) " + ("changed" if old_settings and new_settings else "is new" if new_settings else "is gone"))
    return out


# --- the signing key --------------------------------------------------------------------------------


def plan_key() -> bytes | None:
    """The signing key from ``ACCESSOPS_PLAN_KEY`` (or a file named by ``ACCESSOPS_PLAN_KEY_FILE``); None when unset."""
    value = os.environ.get(KEY_ENV)
    source = KEY_ENV
    if not value and os.environ.get(KEY_ENV + "_FILE"):
        source = os.environ[KEY_ENV + "_FILE"]
        try:
            value = Path(source).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: cannot read the plan signing key ({type(exc).__name__})") from None
    if not value:
        return None
    if len(value) < MIN_KEY_LENGTH:
        raise ConfigError(f"{source}: the plan signing key is too short: use at least {MIN_KEY_LENGTH} characters (e.g. `openssl rand -hex 32`)")
    return value.encode()


def key_id(key: bytes) -> str:
    """A short name for a key, to tell "another key" from "edited" (reveals nothing usable about a strong key)."""
    return hashlib.sha256(b"accessops-plan-key:" + key).hexdigest()[:12]


def _mac(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


# --- reading and writing ------------------------------------------------------------------------------


@dataclass
class SavedPlan:
    """A plan file as read: the plan, what binds it (manifest digest, signature) and the envelope itself."""

    path: Path
    plan: Plan
    format: int
    manifests: dict[str, Any] | None
    signature: dict[str, Any] | None
    envelope: dict[str, Any]

    def verify_signature(self, key: bytes) -> None:
        """Refuse unless the plan carries a valid signature made with ``key`` (constant-time compare)."""
        if not self.signature:
            raise UntrustedPlanError(f"{self.path}: the plan is not signed, and {KEY_ENV} is set here: re-plan where the key is set")
        value = self.signature.get("value")
        if self.signature.get("algorithm") != SIGNATURE_ALGORITHM or not isinstance(value, str):
            raise UntrustedPlanError(f"{self.path}: unknown signature algorithm {self.signature.get('algorithm')!r}; re-plan")
        if not hmac.compare_digest(_mac(key, _covered(self.envelope)).encode(), value.encode()):
            other = self.signature.get("key_id") not in (None, key_id(key))
            why = "it was signed with another key" if other else "the plan was edited after it was signed"
            raise UntrustedPlanError(f"{self.path}: the plan's signature does not match ({why}); nothing applied: re-plan")


def save_plan_file(plan: Plan, path: Path) -> None:
    """Write ``plan`` with its manifest digest and checksum, signed when ``ACCESSOPS_PLAN_KEY`` is set."""
    key = plan_key()
    envelope: dict[str, Any] = {"kind": PLAN_FILE_KIND, "format": PLAN_FILE_FORMAT, "manifests": plan.manifests or None, "plan": plan.to_json()}
    covered = _covered(envelope)
    # A credential never reaches a plan file. The covered bytes hold every value of the plan, so one
    # look at them tells whether any credential is there (a 10k-member plan is tens of MB: encoding it
    # once more, and decoding it, only when one is).
    text = covered.decode()
    if redact_text(text) != text:
        envelope["plan"] = json.loads(redact_text(json.dumps(envelope["plan"])))
        covered = _covered(envelope)
    envelope["checksum"] = hashlib.sha256(covered).hexdigest()
    if key is not None:
        envelope["signature"] = {"algorithm": SIGNATURE_ALGORITHM, "key_id": key_id(key), "value": _mac(key, covered)}
    ordered: dict[str, Any] = {k: envelope[k] for k in ("kind", "format", "checksum", "signature", "manifests", "plan") if k in envelope}
    try:
        # one line, as `terraform show -json` writes it: terraform-compliance reads only a file's first line
        path.write_text(json.dumps(to_file(ordered)) + "\n")
    except OSError as exc:
        raise FileError(str(path), f"cannot write the plan: {exc.strerror or exc}") from None


def _well_formed_digest(digest: Any) -> bool:
    """A digest as :func:`manifest_digest` writes it (or null, for a plan made without manifests)."""
    if digest is None:
        return True
    if not isinstance(digest, dict) or not isinstance(digest.get("paths"), list) or not isinstance(digest.get("files"), list):
        return False
    entries = [*digest["files"], *([digest["settings"]] if digest.get("settings") is not None else [])]
    return (
        all(isinstance(p, str) for p in digest["paths"])
        and all(isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("sha256"), str) for f in entries)
        and (digest.get("commit") is None or isinstance(digest["commit"], str))
    )


def is_plan_file(path: Path) -> bool:
    """Whether ``path`` is a saved plan (rather than a manifest)."""
    if not path.is_file() or path.suffix in (".yaml", ".yml"):
        return False
    try:
        with path.open("rb") as fh:
            return f'"kind": "{PLAN_FILE_KIND}"'.encode() in fh.read(200)
    except OSError:
        return False


def read_plan_file(path: Path) -> SavedPlan:
    """Load a plan file, refusing one that is damaged or whose checksum does not match.

    Malformed content of any kind is one error naming the file (plan/shape.py).
    """
    with reading_plan_file(path):
        return _read_plan_file(path)


def _read_plan_file(path: Path) -> SavedPlan:
    data = from_file(json.loads(path.read_bytes()))  # the envelope, whichever the layout on disk
    if data is None or data.get("kind") != PLAN_FILE_KIND or not isinstance(data.get("plan"), dict):
        raise FileError(str(path), "not an accessops plan file")
    version = data.get("format", 1)
    if version not in (1, PLAN_FILE_FORMAT):
        raise FileError(str(path), f"plan file format {version!r} is not one this accessops reads (1 or {PLAN_FILE_FORMAT})")
    if version == 1:  # format 1 hashed the plan alone
        expected = hashlib.sha256(json.dumps(data["plan"], sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    else:
        expected = hashlib.sha256(_covered(data)).hexdigest()
    if data.get("checksum") != expected:
        raise FileError(str(path), "checksum mismatch; the plan file was edited or damaged")
    plan = checked_plan(path, Plan.from_json(data["plan"]))
    manifests, signature = data.get("manifests"), data.get("signature")
    if version >= 2 and not _well_formed_digest(manifests):
        raise FileError(str(path), "the plan's manifest digest is malformed; the plan file was edited or damaged")
    if signature is not None and not (isinstance(signature, dict) and all(isinstance(signature.get(k), str) for k in ("algorithm", "value"))):
        raise FileError(str(path), "the plan's signature is malformed; the plan file was edited or damaged")
    plan.manifests = dict(manifests or {})
    return SavedPlan(path, plan, int(version), manifests, signature, data)
