"""Reads lib/probe.sh's log: the acknowledged writes and the longest gap between them."""
import os


def acks(work):
    """[(epoch, seq)] of every acknowledged INSERT, in arrival order."""
    out = []
    for line in open(os.path.join(work, "probe.log")):
        f = line.split()
        if len(f) == 3 and f[2] == "ok":
            out.append((float(f[0]), int(f[1])))
    return out


def gap(acked, begin, end):
    """The longest time in [begin, end] without an acknowledgement (its ends count as one)."""
    ends = sorted(e for e, _ in acked if begin <= e <= end)
    ends = [begin] + ends + [end]
    return max(b - a for a, b in zip(ends, ends[1:]))


def at(work, name):
    """The epoch a test's `mark NAME` wrote."""
    return float(open(os.path.join(work, name + ".at")).read())
