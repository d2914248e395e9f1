"""How a container's process locks itself down before exec (capabilities, prctl, the
seccomp filter), recorded through the kernel interface instead of performed."""

from __future__ import annotations

import json
import os
import signal

from engine.helper.runtime import capabilities, init
from engine.helper.runtime.kernel import RecordingKernel
from engine.helper.runtime.syscallfilter import Program

PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
CAP_KILL = 5


def test_every_capability_not_kept_leaves_the_bounding_set() -> None:
    kernel = RecordingKernel()
    capabilities.apply(["CAP_KILL"], root_user=False, kernel=kernel)
    dropped = [cap for option, cap in kernel.named("prctl") if option == PR_CAPBSET_DROP]
    assert CAP_KILL not in dropped and 0 in dropped
    assert sorted([*dropped, CAP_KILL]) == list(range(capabilities._last_cap() + 1))
    assert kernel.named("prctl")[-1] == (PR_CAP_AMBIENT, 4)  # ambient ones cleared
    assert kernel.named("capset") == []  # a user other than root keeps none effective

    kernel = RecordingKernel()
    capabilities.apply(["CAP_KILL"], root_user=True, kernel=kernel)
    keep = capabilities.mask(["CAP_KILL"])
    assert keep == 1 << CAP_KILL and kernel.named("capset") == [(keep, keep, 0)]


class _ReportAtFilter(RecordingKernel):
    """Sends what was asked to the error pipe when the filter is loaded, then ends
    the process (that is where exec would follow)."""

    def __init__(self, pipe: int) -> None:
        super().__init__()
        self.pipe = pipe

    def load_seccomp(self, program: Program) -> None:
        super().load_seccomp(program)
        steps = [[call.name, list(call.args) if call.name == "prctl" else []]
                 for call in self.calls
                 if not (call.name == "prctl" and call.args[0] in (PR_CAPBSET_DROP,
                                                                    PR_CAP_AMBIENT))]
        os.write(self.pipe, json.dumps(steps).encode())
        os._exit(0)


def test_the_seccomp_filter_comes_last_after_no_new_privs_and_the_parent_death_signal(
        ) -> None:
    """As root (the user stays root): the bounding set, no_new_privs, the user, its
    capabilities, the parent-death signal, then the filter."""
    report, report_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(report)
            init.become_and_exec(args=["/bin/true"], env=[], user_spec="0", cwd="/",
                                 hostname="probe", error_fd=report_end, create_cwd=False,
                                 seccomp=Program(0, b""), die_with_parent=True,
                                 kernel=_ReportAtFilter(report_end))
        finally:
            os._exit(1)
    os.close(report_end)
    with os.fdopen(report, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, data
    assert json.loads(data) == [
        ["prctl", [PR_SET_NO_NEW_PRIVS, 1]],
        ["capset", []],
        ["prctl", [PR_SET_PDEATHSIG, signal.SIGKILL]],
        ["load_seccomp", []],
    ]
