"""Check that the programs `make pdf` needs are installed; name the packages if not.

jupyter-book's pdflatex builder runs xelatex through latexmk, and the
generated latexmkrc calls xindy; the fonts are GNU FreeFont and DejaVu Sans
Mono. On Debian/Ubuntu one command installs them all (about 400 MB). Exits 1,
printing that command, when something is missing.
"""

import shutil
import subprocess
import sys

PACKAGES = ("texlive-latex-extra texlive-xetex latexmk texlive-fonts-recommended "
            "fonts-freefont-otf fonts-dejavu-core fonts-dejavu-extra xindy poppler-utils")
PROGRAMS = ("xelatex", "latexmk", "xindy", "pdftotext")
FONTS = ("FreeSerif", "FreeSans", "DejaVu Sans Mono:style=Oblique")


def missing():
    """Return the programs and fonts that are not installed."""
    gone = [p for p in PROGRAMS if shutil.which(p) is None]
    if shutil.which("fc-list") is None:
        return gone + ["fc-list (fontconfig)"]
    for font in FONTS:
        out = subprocess.run(["fc-list", font], capture_output=True, text=True).stdout
        if not out.strip():
            gone.append(f"font {font}")
    return gone


def main():
    gone = missing()
    if gone:
        print("make pdf needs: " + ", ".join(gone), file=sys.stderr)
        print(f"install them with:\n    sudo apt-get install --no-install-recommends {PACKAGES}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
