"""Finding the processes a test's servers started, by a marker in their environment."""

import os


def marked_processes(var: str, mark: str, exe: str) -> list[int]:
    """Live processes named `exe` whose environment holds `var=mark`."""
    needle = f"{var}={mark}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            name = os.path.basename(os.readlink(f"/proc/{entry}/exe"))
        except OSError:
            continue
        if needle in environ and state not in ("Z", "X") and name == exe:
            found.append(int(entry))
    return found
