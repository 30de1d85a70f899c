//! Collects every measurement and prints the tables: per repeat, then medians and ranges,
//! with the ratios computed within each repeat.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::measure::{Client, Rate, Switches};
use crate::procs::Kind;

#[derive(Default)]
struct Figure {
    /// Per server, the value of each repeat.
    values: BTreeMap<Kind, Vec<Option<f64>>>,
    /// Per server, the CPU notes of each repeat.
    cpu: BTreeMap<Kind, Vec<Option<Rate>>>,
}

/// Every figure, in the order first measured.
#[derive(Default)]
pub struct Report {
    order: Vec<String>,
    figures: BTreeMap<String, Figure>,
    notes: Vec<String>,
}

impl Report {
    /// A line printed above the tables.
    pub fn note(&mut self, line: String) {
        self.notes.push(line);
    }

    fn slot<T: Clone>(v: &mut Vec<Option<T>>, repeat: usize) -> &mut Option<T> {
        if v.len() <= repeat {
            v.resize(repeat + 1, None);
        }
        &mut v[repeat]
    }

    /// Records a plain value.
    pub fn value(&mut self, figure: &str, kind: Kind, repeat: usize, value: f64) {
        if !self.figures.contains_key(figure) {
            self.order.push(figure.to_owned());
        }
        let f = self.figures.entry(figure.to_owned()).or_default();
        *Self::slot(f.values.entry(kind).or_default(), repeat) = Some(value);
        eprintln!("  {figure} | {} | {value:.1}", kind.name());
    }

    /// Records a rate with its CPU notes, and the server's CPU time per operation as a
    /// figure of its own (on a machine shared with other work, the rate follows the CPU the
    /// server was given; its CPU per operation much less so).
    pub fn rate(&mut self, figure: &str, kind: Kind, repeat: usize, rate: Rate) {
        self.value(figure, kind, repeat, rate.per_sec);
        let f = self.figures.get_mut(figure).expect("just added");
        *Self::slot(f.cpu.entry(kind).or_default(), repeat) = Some(rate);
        if rate.per_sec > 0.0 {
            let per_op = format!("{figure}: server CPU µs per operation");
            self.value(&per_op, kind, repeat, rate.server_cpu / rate.per_sec * 1e6);
            let per_op = format!("{figure}: generator CPU µs per operation");
            self.value(&per_op, kind, repeat, rate.gen_cpu / rate.per_sec * 1e6);
        }
    }

    /// Records the server's context switches per call as two figures of their own (per 100
    /// calls): voluntary ones are a thread going to sleep, to be woken again.
    pub fn switches(&mut self, figure: &str, kind: Kind, repeat: usize, switches: Switches) {
        let voluntary = format!("{figure}: server voluntary context switches per 100 calls");
        self.value(&voluntary, kind, repeat, 100.0 * switches.voluntary);
        let involuntary = format!("{figure}: server involuntary context switches per 100 calls");
        self.value(&involuntary, kind, repeat, 100.0 * switches.involuntary);
    }

    /// Records what the generator's client threads did per call, as three figures of their
    /// own (per 100 calls): reads, sleeps and preemptions. A server that answers in two
    /// pieces costs the generator two reads and often two sleeps per call.
    pub fn client(&mut self, figure: &str, kind: Kind, repeat: usize, client: Client) {
        let reads = format!("{figure}: generator reads per 100 calls");
        self.value(&reads, kind, repeat, 100.0 * client.reads);
        let sleeps = format!("{figure}: generator sleeps per 100 calls");
        self.value(&sleeps, kind, repeat, 100.0 * client.sleeps);
        let preempted = format!("{figure}: generator preemptions per 100 calls");
        self.value(&preempted, kind, repeat, 100.0 * client.preempted);
    }

    /// Prints everything as Markdown.
    pub fn print(&self, repeats: usize) {
        let mut out = String::new();
        for note in &self.notes {
            let _ = writeln!(out, "- {note}");
        }
        let _ = writeln!(
            out,
            "\n## Summary: median (min-max) of {repeats} repeats; ratios taken within each repeat\n"
        );
        let _ = writeln!(
            out,
            "| figure | ours | rmcp | rmcp stdio_pipes | bare hyper | ours stateless | ours/rmcp | ours/rmcp stdio_pipes | ours/bare | stateless/ours | stateless/bare |"
        );
        let _ = writeln!(
            out,
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        );
        for name in &self.order {
            let f = &self.figures[name];
            let get = |k: Kind| f.values.get(&k).cloned().unwrap_or_default();
            let cell = |k: Kind| summary(&get(k).into_iter().flatten().collect::<Vec<_>>(), false);
            let ratio = |num: Kind, den: Kind| {
                let r: Vec<f64> = get(num)
                    .iter()
                    .zip(get(den).iter())
                    .filter_map(|(a, b)| Some((*a)? / (*b)?))
                    .collect();
                summary(&r, true)
            };
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(Kind::Ours),
                cell(Kind::Rmcp),
                cell(Kind::RmcpPipes),
                cell(Kind::Bare),
                cell(Kind::OursStateless),
                ratio(Kind::Ours, Kind::Rmcp),
                ratio(Kind::Ours, Kind::RmcpPipes),
                ratio(Kind::Ours, Kind::Bare),
                ratio(Kind::OursStateless, Kind::Ours),
                ratio(Kind::OursStateless, Kind::Bare),
            );
        }
        let _ = writeln!(out, "\n## Every repeat\n");
        let _ = writeln!(
            out,
            "CPU columns: CPU seconds per wall second of the server / of the load generator \
             during the cell (2 cores: 2.0 is all of the machine).\n"
        );
        let _ = writeln!(
            out,
            "| figure | server | repeat | value | server CPU | generator CPU |"
        );
        let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
        for name in &self.order {
            let f = &self.figures[name];
            for (kind, values) in &f.values {
                for (r, v) in values.iter().enumerate() {
                    let Some(v) = v else { continue };
                    let cpu = f.cpu.get(kind).and_then(|c| c.get(r).copied().flatten());
                    let (s, g) = cpu.map_or((String::new(), String::new()), |c| {
                        (format!("{:.2}", c.server_cpu), format!("{:.2}", c.gen_cpu))
                    });
                    let _ = writeln!(
                        out,
                        "| {name} | {} | {} | {} | {s} | {g} |",
                        kind.name(),
                        r + 1,
                        fmt(*v)
                    );
                }
            }
        }
        print!("{out}");
    }
}

fn fmt(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// "median (min-max)", or "" when there is nothing.
fn summary(values: &[f64], ratio: bool) -> String {
    if values.is_empty() {
        return String::new();
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    let show = |x: f64| {
        if ratio { format!("{x:.2}") } else { fmt(x) }
    };
    format!("{} ({}-{})", show(median), show(v[0]), show(v[v.len() - 1]))
}
