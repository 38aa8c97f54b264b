# Run by `pgha up` on every Patroni node (python3, as root) before Patroni starts.
#
# Debian 12's Patroni 3.0.2 renews the leader key of its etcd3 DCS with an unconditional put once its
# lease has expired. A primary cut off from etcd longer than the TTL comes back with a stale view that
# still names it the leader, takes a new lease and writes the key over the member that was promoted in
# the meantime: two primaries on the same timeline, and every write acknowledged by the new one lost.
# `pgha check failover --fault partition` shows it on a sync-mode cluster. Upstream fixed it in 3.0.3
# (the leader key is written only if it still names this member, or is absent); this applies the same
# rule to the 3.0.2 module. It changes nothing on any other text (a newer Patroni, already applied).
#
# Prints one word: "applied", "present" (already applied), "upstream" (a Patroni of 3.0.3 or later,
# by the version.py beside the module: it has the rule itself, Debian 13's Patroni 4 among them) or
# "absent" (not this Patroni). An argument names another copy of the module
# (tests/daemons/patroni_leader_key.sh).
import pathlib
import sys

MODULE = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/lib/python3/dist-packages/patroni/dcs/etcd3.py")
MARK = "# pgha: the leader key is compare-and-set"

OLD = """\
                try:
                    self._run_and_handle_exceptions(self._client.put, self.leader_path,
                                                    self._name, self._lease, retry=_retry)
                except ReturnFalseException:
                    pass
        return bool(self._lease)
"""

NEW = """\
                """ + MARK + """: renewed only while it names this member, created only
                # when absent. Never written over another member's key (fixed upstream in 3.0.3).
                key = base64_encode(self.leader_path)
                mine = {'key': key, 'target': 'VALUE', 'value': base64_encode(self._name)}
                renew = {'request_put': {'key': key, 'value': base64_encode(self._name), 'lease': self._lease}}
                if not self._run_and_handle_exceptions(self._client.txn, mine, renew, retry=_retry) and \\
                        not self._run_and_handle_exceptions(self._client.put, self.leader_path, self._name,
                                                            self._lease, 0, retry=_retry):
                    return False
        return bool(self._lease)
"""


def upstream_version():
    """Patroni's version as a tuple from patroni/version.py beside dcs/, or None."""
    try:
        text = (MODULE.parent.parent / "version.py").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("__version__"):
            digits = line.split("=", 1)[1].strip().strip("'\"").split(".")
            try:
                return tuple(int(d) for d in digits[:3])
            except ValueError:
                return None
    return None


def main():
    if not MODULE.is_file():
        print("absent")
        return 0
    src = MODULE.read_text()
    if MARK in src:
        print("present")
        return 0
    version = upstream_version()
    if version is not None and version >= (3, 0, 3):
        print("upstream")
        return 0
    if src.count(OLD) != 1:
        print("absent")
        return 0
    patched = src.replace(OLD, NEW)
    compile(patched, str(MODULE), "exec")  # a SyntaxError here leaves the module untouched
    tmp = MODULE.with_name(MODULE.name + ".pgha-tmp")
    tmp.write_text(patched)
    tmp.chmod(MODULE.stat().st_mode)
    tmp.replace(MODULE)
    print("applied")
    return 0


sys.exit(main())
