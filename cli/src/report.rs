//! What the long-running commands print: a live progress line, reload
//! latency percentiles, numbers people can read, and plain-text tables.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use polyplug::LibraryStats;

/// Reload latencies, kept whole so the percentiles are exact.
#[derive(Debug, Default, Clone)]
pub(crate) struct Latencies {
    samples: Vec<Duration>,
}

impl Latencies {
    pub(crate) fn record(&mut self, latency: Duration) {
        self.samples.push(latency);
    }

    /// The `p`-th percentile (0–100) by nearest rank, or `None` when there
    /// are no samples.
    pub(crate) fn percentile(&self, p: u32) -> Option<Duration> {
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        let n = sorted.len();
        if n == 0 {
            return None;
        }
        // Nearest rank: ceil(p/100 * n), 1-based; computed in integers.
        let rank = (usize::try_from(p.min(100)).unwrap_or(100) * n).div_ceil(100);
        sorted.get(rank.max(1) - 1).copied()
    }

    pub(crate) fn max(&self) -> Option<Duration> {
        self.samples.iter().max().copied()
    }

    /// `p50 412 µs, p99 1.92 ms, max 3.10 ms`, or `none yet`.
    pub(crate) fn summary(&self) -> String {
        match (self.percentile(50), self.percentile(99), self.max()) {
            (Some(p50), Some(p99), Some(max)) => format!(
                "p50 {}, p99 {}, max {}",
                duration(p50),
                duration(p99),
                duration(max)
            ),
            _ => "none yet".to_owned(),
        }
    }

    /// `p50 412 µs p99 1.92 ms`, short, for the progress line.
    pub(crate) fn short(&self) -> String {
        match (self.percentile(50), self.percentile(99)) {
            (Some(p50), Some(p99)) => format!("p50 {} p99 {}", duration(p50), duration(p99)),
            _ => "p50 - p99 -".to_owned(),
        }
    }
}

/// A progress line: rewritten in place (`\r`) about four times a second on
/// a terminal; one line a second otherwise (CI logs).
#[derive(Debug)]
pub(crate) struct Progress {
    tty: bool,
    width: usize,
}

impl Progress {
    pub(crate) fn new() -> Progress {
        Progress {
            tty: std::io::stdout().is_terminal(),
            width: 0,
        }
    }

    /// How often [`Progress::show`] should be called.
    pub(crate) fn interval(&self) -> Duration {
        if self.tty {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(1)
        }
    }

    /// Prints `line`, replacing the previous one on a terminal.
    pub(crate) fn show(&mut self, line: &str) {
        let mut out = std::io::stdout().lock();
        if self.tty {
            let pad = self.width.saturating_sub(line.chars().count());
            let _ = write!(out, "\r{line}{:pad$}", "");
            self.width = line.chars().count();
        } else {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }

    /// Ends the progress line, so what follows starts on a line of its own.
    pub(crate) fn finish(&mut self) {
        if self.tty && self.width > 0 {
            println!();
            self.width = 0;
        }
    }
}

/// `1,234,567`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `12.3M/s`, `456k/s`, `789/s`.
pub(crate) fn rate(events: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        return "-".to_owned();
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "a rate for people: three significant digits are enough"
    )]
    let per_second = events as f64 / seconds;
    if per_second >= 1e6 {
        format!("{:.1}M/s", per_second / 1e6)
    } else if per_second >= 1e3 {
        format!("{:.1}k/s", per_second / 1e3)
    } else {
        format!("{per_second:.0}/s")
    }
}

/// `412 µs`, `1.92 ms`, `2.50 s`.
pub(crate) fn duration(d: Duration) -> String {
    let micros = d.as_micros();
    if micros < 1000 {
        format!("{micros} µs")
    } else if micros < 1_000_000 {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// `12 opened, 12 closed, 12 unmapped`, with the libraries the dynamic
/// loader kept mapped when there are any.
pub(crate) fn libraries(stats: &LibraryStats) -> String {
    let mut text = format!(
        "{} opened, {} closed, {} unmapped",
        count(stats.opened),
        count(stats.closed),
        count(stats.unmapped)
    );
    if stats.still_mapped > 0 {
        let _ = write!(text, ", {} still mapped", count(stats.still_mapped));
    }
    text
}

/// A plain-text table: a header and rows, left-aligned text and
/// right-aligned numbers (cells that start with a digit).
#[derive(Debug)]
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table, two spaces between columns, a rule under the header.
    pub(crate) fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            let mut text = String::new();
            for (i, cell) in cells.iter().enumerate().take(columns) {
                let width = widths[i];
                let numeric = cell.starts_with(|c: char| c.is_ascii_digit());
                if i > 0 {
                    text.push_str("  ");
                }
                if numeric {
                    let _ = write!(text, "{cell:>width$}");
                } else {
                    let _ = write!(text, "{cell:<width$}");
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&self.header, &mut out);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(&rule, &mut out);
        for row in &self.rows {
            line(row, &mut out);
        }
        out
    }
}

/// The number of dispatcher threads when none is asked for: one per core,
/// at least two.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(2)
        .max(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut l = Latencies::default();
        assert_eq!(l.percentile(50), None);
        for ms in 1..=100 {
            l.record(Duration::from_millis(ms));
        }
        assert_eq!(l.percentile(50), Some(Duration::from_millis(50)));
        assert_eq!(l.percentile(99), Some(Duration::from_millis(99)));
        assert_eq!(l.percentile(100), Some(Duration::from_millis(100)));
        assert_eq!(l.max(), Some(Duration::from_millis(100)));
        let mut one = Latencies::default();
        one.record(Duration::from_micros(7));
        assert_eq!(one.percentile(1), Some(Duration::from_micros(7)));
    }

    #[test]
    fn numbers_read_like_numbers() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(rate(3_000_000, Duration::from_secs(2)), "1.5M/s");
        assert_eq!(rate(1500, Duration::from_secs(1)), "1.5k/s");
        assert_eq!(duration(Duration::from_micros(412)), "412 µs");
        assert_eq!(duration(Duration::from_micros(1920)), "1.92 ms");
    }

    #[test]
    fn tables_align_numbers_right() {
        let mut t = Table::new(&["plugin", "calls"]);
        t.row(vec!["counter-c".to_owned(), "12".to_owned()]);
        t.row(vec!["x".to_owned(), "1,234".to_owned()]);
        assert_eq!(
            t.render(),
            "plugin     calls\n---------  -----\ncounter-c     12\nx          1,234\n"
        );
    }
}
