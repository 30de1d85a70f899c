#!/usr/bin/env python3
"""Who runs after whom on the two cores during one HTTP cell: reads a `perf record` scheduler
trace of the whole machine and prints, per call, the CPU time of the generator's client
threads and of the server, the switch-ins of each by the class of the thread before it
(another process means an address-space switch and a cold cache), preemptions, wake-ups
(local or remote) and IPIs by the class of the thread they interrupted.

Record one second in the middle of a cell, then read it with the cell's calls/s (the
generator prints it):

    ./loadgen --only http --http-clients 4 --http-servers ours --repeats 1 --secs 4 &
    sleep 2; perf record -a -o /tmp/t.data -e sched:sched_switch -e sched:sched_wakeup \\
        -e irq_vectors:reschedule_entry -e irq_vectors:call_function_single_entry -- sleep 1
    python3 mcp-transport/sidebyside/schedtrace.py /tmp/t.data 80000

Classes: `gen` the generator's client threads (comm `loadgen`), `genrt` its other threads,
`srv` the server's threads (`tokio-rt-worker`, `ours`, `bare`, `rmcp-server` outside the
generator), `idle`, `other`.
"""

import collections
import re
import subprocess
import sys

LINE = re.compile(r"^\s*(.+?)\s+(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)$")
SWITCH = re.compile(r"prev_comm=(.+?) prev_pid=(\d+) .*prev_state=(\S+) ==> "
                    r"next_comm=(.+?) next_pid=(\d+)")
WAKEUP = re.compile(r"comm=(.+?) pid=(\d+) .*target_cpu=(\d+)")


def records(path):
    out = subprocess.run(
        ["perf", "script", "-i", path, "-F", "comm,pid,tid,cpu,time,event,trace"],
        capture_output=True, text=True, check=True).stdout
    recs, tgid_of = [], {0: 0}
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        comm, pid, tid, cpu, t, event, rest = m.groups()
        tgid_of[int(tid)] = int(pid)
        recs.append((float(t), int(cpu), comm, int(tid), event, rest))
    return recs, tgid_of


def main(path, calls_per_sec):
    recs, tgid_of = records(path)
    gen_tgid = collections.Counter(
        tgid_of[r[3]] for r in recs if r[2] == "loadgen").most_common(1)[0][0]

    def cls(tid, comm):
        if tid == 0:
            return "idle"
        if tgid_of.get(tid) == gen_tgid:
            return "gen" if comm == "loadgen" else "genrt"
        server = comm.startswith("tokio-rt-worker") or comm in ("ours", "bare", "rmcp-server")
        return "srv" if server else "other"

    run, switch_in, preempted, wakeups, ipis = (collections.Counter() for _ in range(5))
    last, running = {}, {}
    for t, cpu, comm, tid, event, rest in recs:
        if event == "sched:sched_switch":
            m = SWITCH.match(rest)
            prev = cls(int(m.group(2)), m.group(1))
            nxt = cls(int(m.group(5)), m.group(4))
            if cpu in last:
                run[last[cpu][1]] += t - last[cpu][0]
            last[cpu] = (t, nxt)
            running[cpu] = nxt
            switch_in[(nxt, prev)] += 1
            if m.group(3).startswith("R"):
                preempted[(prev, nxt)] += 1
        elif event == "sched:sched_wakeup":
            m = WAKEUP.match(rest)
            where = "local" if int(m.group(3)) == cpu else "remote"
            wakeups[(cls(int(m.group(2)), m.group(1)), cls(tid, comm), where)] += 1
        elif event.startswith("irq_vectors:"):
            ipis[(event.split(":")[1], running.get(cpu, "?"))] += 1
    end = recs[-1][0]
    for t, c in last.values():
        run[c] += end - t
    secs = end - recs[0][0]
    calls = calls_per_sec * secs

    def show(title, counter, fmt):
        items = [fmt(k) + f" {v / calls:.3f}" for k, v in sorted(counter.items())
                 if v / calls >= 0.002]
        print(f"  {title}: " + ", ".join(items))

    print(f"{path}: {secs:.3f} s traced, about {calls:.0f} calls")
    print("  CPU µs per call: "
          + ", ".join(f"{c} {v / calls * 1e6:.2f}" for c, v in sorted(run.items())))
    show("switch-ins per call (next <- previous)", switch_in, lambda k: f"{k[0]}<-{k[1]}")
    show("preemptions per call (preempted -> by)", preempted, lambda k: f"{k[0]}->{k[1]}")
    show("wake-ups per call (wakee <- waker, where)", wakeups,
         lambda k: f"{k[0]}<-{k[1]} {k[2]}")
    show("IPIs per call (vector on class)", ipis, lambda k: f"{k[0]} on {k[1]}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], float(sys.argv[2]))
