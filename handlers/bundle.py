"""Where the shipped files live, and which build this is.

From a source checkout the templates, static files and migrations sit next to
the code.  In the one-file binary (``make binary``) PyInstaller unpacks them
into a temporary folder named by ``sys._MEIPASS``; this module is the one
place that knows the difference.
"""
import os
import subprocess
import sys

VERSION = "1.0.0"
FROZEN = hasattr(sys, "_MEIPASS")
ROOT = sys._MEIPASS if FROZEN else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMIT_STAMP = "BUILD_COMMIT"  # written into the binary by deploy/corporate-messenger.spec


def resource(*parts):
    """The path of a shipped file, e.g. ``resource("static", "close-codes.json")``."""
    return os.path.join(ROOT, *parts)


def build_commit():
    """The git commit of this build: stamped into the binary, else asked of git (source checkouts)."""
    stamp = resource(COMMIT_STAMP)
    if os.path.exists(stamp):
        with open(stamp, encoding="utf-8") as f:
            return f.read().strip() or "unknown"
    return git_describe(ROOT)


def git_describe(folder):
    """``git describe --always --dirty`` of ``folder``, or "unknown" without git or a repository."""
    try:
        result = subprocess.run(["git", "-C", folder, "describe", "--always", "--dirty", "--abbrev=12"],
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else "unknown"


def program_name():
    """The command that started this program, for help texts: the binary's file name, else ``python server.py``."""
    name = os.path.basename(sys.argv[0])
    return name if FROZEN else f"python {name}"


def version_line():
    kind = "binary" if FROZEN else "source"
    return f"corporate-messenger {VERSION} (commit {build_commit()}, {kind})"
