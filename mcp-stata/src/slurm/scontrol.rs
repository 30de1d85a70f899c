//! Reading `scontrol -o show job ID`: one line per job record, `Key=Value` fields. An array job
//! shows one record per element that started (`ArrayTaskId=3`) and one for the elements still
//! pending (`ArrayTaskId=2-5%2`); a finished job stays listed for `MinJobAge` seconds, then
//! `scontrol` answers `Invalid job id specified`.

use std::time::Duration;

/// One record of `scontrol -o show job`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct JobRecord {
    /// `JobId`.
    pub(crate) job_id: String,
    /// The array elements this record stands for (empty: not an array job).
    pub(crate) tasks: Vec<usize>,
    /// `JobState` (`PENDING`, `RUNNING`, `COMPLETED`, ...).
    pub(crate) state: String,
    /// `Reason` (`Resources`, `Priority`, `None`, ...).
    pub(crate) reason: String,
    /// `NodeList` (or `BatchHost`), when set.
    pub(crate) node: Option<String>,
    /// `RunTime`.
    pub(crate) run_time: Option<Duration>,
    /// `ExitCode`: the code and the signal.
    pub(crate) exit: Option<(i32, i32)>,
}

/// Job states after which nothing more happens to the job.
pub(crate) fn is_terminal(state: &str) -> bool {
    matches!(
        state,
        "COMPLETED"
            | "FAILED"
            | "CANCELLED"
            | "TIMEOUT"
            | "NODE_FAIL"
            | "PREEMPTED"
            | "BOOT_FAIL"
            | "DEADLINE"
            | "OUT_OF_MEMORY"
    )
}

/// Terminal states in which the cluster, not Stata, ended the job.
pub(crate) fn ended_by_cluster(state: &str) -> bool {
    is_terminal(state) && !matches!(state, "COMPLETED" | "FAILED")
}

/// The records of `scontrol -o show job` output.
pub(crate) fn parse(output: &str) -> Vec<JobRecord> {
    output
        .lines()
        .filter(|l| l.contains("JobId="))
        .map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> JobRecord {
    let mut fields: Vec<(&str, String)> = Vec::new();
    for token in line.split(' ').filter(|t| !t.is_empty()) {
        match token.split_once('=') {
            Some((key, value)) if is_key(key) => fields.push((key, value.to_owned())),
            // A value with a space in it (a path): the rest of the previous value.
            _ => {
                if let Some((_, value)) = fields.last_mut() {
                    value.push(' ');
                    value.push_str(token);
                }
            }
        }
    }
    let get = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    };
    let set = |v: &&str| !v.is_empty() && *v != "(null)" && *v != "None assigned";
    JobRecord {
        job_id: get("JobId").unwrap_or("").to_owned(),
        tasks: get("ArrayTaskId").map(task_ids).unwrap_or_default(),
        state: get("JobState").unwrap_or("").to_owned(),
        reason: get("Reason").unwrap_or("").to_owned(),
        node: get("NodeList")
            .filter(set)
            .or(get("BatchHost").filter(set))
            .map(str::to_owned),
        run_time: get("RunTime").and_then(duration),
        exit: get("ExitCode").and_then(|v| {
            let (code, signal) = v.split_once(':')?;
            Some((code.parse().ok()?, signal.parse().ok()?))
        }),
    }
}

fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '_'))
}

/// The element indexes of an `ArrayTaskId` expression: `3`, `0-3`, `1,4-6`, `0-9:2`, each
/// optionally followed by `%N` (the throttle).
pub(crate) fn task_ids(spec: &str) -> Vec<usize> {
    let spec = spec.split('%').next().unwrap_or("");
    let mut ids = Vec::new();
    for part in spec.split(',') {
        let (range, step) = match part.split_once(':') {
            Some((range, step)) => (range, step.parse().unwrap_or(1).max(1)),
            None => (part, 1),
        };
        match range.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    ids.extend((a..=b.min(a + 100_000)).step_by(step));
                }
            }
            None => {
                if let Ok(id) = range.parse() {
                    ids.push(id);
                }
            }
        }
    }
    ids
}

/// `[D-]HH:MM:SS` or `MM:SS`.
pub(crate) fn duration(text: &str) -> Option<Duration> {
    let (days, clock) = match text.split_once('-') {
        Some((days, clock)) => (days.parse::<u64>().ok()?, clock),
        None => (0, text),
    };
    let parts: Vec<u64> = clock
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let seconds = match parts.as_slice() {
        [h, m, s] => h * 3600 + m * 60 + s,
        [m, s] => m * 60 + s,
        [s] => *s,
        _ => return None,
    };
    Some(Duration::from_secs(days * 86_400 + seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records as Slurm 22.05 printed them on the test cluster (abridged: the fields the
    /// plugin reads, and a few around them).
    const PENDING_ARRAY: &str = "JobId=2 ArrayJobId=2 ArrayTaskId=0-3%2 ArrayTaskThrottle=2 JobName=arr.sh UserId=root(0) JobState=PENDING Reason=Resources Dependency=(null) ExitCode=0:0 RunTime=00:00:00 NodeList= BatchHost= Command=/tmp/a dir/job.sh WorkDir=/tmp/a dir StdOut=/tmp/a dir/out";

    #[test]
    fn a_pending_array_record_stands_for_its_elements() {
        let records = parse(PENDING_ARRAY);
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(r.job_id, "2");
        assert_eq!(r.tasks, [0, 1, 2, 3]);
        assert_eq!(
            (r.state.as_str(), r.reason.as_str()),
            ("PENDING", "Resources")
        );
        assert_eq!(r.node, None);
        assert_eq!(r.exit, Some((0, 0)));
    }

    #[test]
    fn finished_and_running_records() {
        let text = "JobId=6 ArrayJobId=2 ArrayTaskId=2 JobState=FAILED Reason=NonZeroExitCode ExitCode=2:0 RunTime=00:00:01 NodeList=vm BatchHost=vm\n\
                    JobId=7 JobState=RUNNING Reason=None ExitCode=0:0 RunTime=1-02:03:04 NodeList=node[01-02] BatchHost=node01\n\
                    JobId=8 JobState=CANCELLED Reason=None ExitCode=0:15 RunTime=00:00:05 NodeList=vm\n";
        let records = parse(text);
        assert_eq!(records[0].tasks, [2]);
        assert_eq!(records[0].exit, Some((2, 0)));
        assert_eq!(records[0].run_time, Some(Duration::from_secs(1)));
        assert!(records[1].tasks.is_empty());
        assert_eq!(records[1].node.as_deref(), Some("node[01-02]"));
        assert_eq!(
            records[1].run_time,
            Some(Duration::from_secs(86_400 + 2 * 3600 + 3 * 60 + 4))
        );
        assert_eq!(records[2].exit, Some((0, 15)));
        assert!(is_terminal("CANCELLED") && !is_terminal("COMPLETING"));
        assert!(ended_by_cluster("TIMEOUT") && !ended_by_cluster("FAILED"));
    }

    #[test]
    fn task_id_expressions() {
        assert_eq!(task_ids("3"), [3]);
        assert_eq!(task_ids("1,4-6%2"), [1, 4, 5, 6]);
        assert_eq!(task_ids("0-9:3"), [0, 3, 6, 9]);
        assert!(task_ids("x").is_empty());
        assert_eq!(duration("05:07"), Some(Duration::from_secs(307)));
        assert_eq!(duration("bad"), None);
    }
}
