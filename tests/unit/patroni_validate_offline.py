# Patroni's own configuration validator (`patroni --validate-config`: patroni.config.Config with
# patroni.validator.schema) over each file given, without its reachability probe: the validator
# connects to every etcd3 host and binds each listen address, which a unit test cannot offer (no etcd
# runs). Host and port are still parsed by Patroni's split_host_port. tests/daemons/patroni_validate.sh
# runs the whole validator, probe included, against a live etcd.
# Usage: /usr/bin/python3 patroni_validate_offline.py FILE...   Prints "FILE: errors" per bad file;
# exit 1 when any is bad.
import sys

import patroni.validator as validator
from patroni.exceptions import ConfigParseError
from patroni.utils import split_host_port


def parse_only(host_port, listen=False, multiple_hosts=False):
    try:
        split_host_port(host_port, None)
    except (ValueError, TypeError):
        raise ConfigParseError("contains a wrong value")
    return True


validator.validate_host_port = parse_only

from patroni.config import Config  # noqa: E402  (after the patch, as the schema calls it by name)

bad = 0
for path in sys.argv[1:]:
    try:
        Config(path, validator=validator.schema)
    except ConfigParseError as e:
        print("%s: %s" % (path, str(e.value).replace("\n", "; ")))
        bad += 1
sys.exit(1 if bad else 0)
