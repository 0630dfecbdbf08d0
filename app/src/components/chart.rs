//! A bar chart drawn as SVG on the server (it shows without JavaScript and hydrates as-is):
//! counts per time bucket, one bar per series side by side, each bar titled with its bucket's
//! start and its count.

use billhook_model::Timestamp;
use leptos::prelude::*;

/// One series: its name, its CSS class (its colour) and its count per bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub name: &'static str,
    pub class: &'static str,
    pub counts: Vec<i64>,
}

const WIDTH: f64 = 240.0;
const HEIGHT: f64 = 48.0;

#[component]
pub fn BarChart(
    series: Vec<Series>,
    /// Where the first bucket starts (unix ms), and a bucket's length.
    since: i64,
    bucket_ms: i64,
    /// What the chart shows, for screen readers (the totals are added).
    label: String,
) -> impl IntoView {
    let buckets = series.iter().map(|s| s.counts.len()).max().unwrap_or(0).max(1);
    let highest = series.iter().flat_map(|s| s.counts.iter().copied()).max().unwrap_or(0).max(1);
    let group = WIDTH / buckets as f64;
    let bar = group / (series.len() as f64 + 0.5);
    let totals: Vec<String> = series.iter().map(|s| format!("{} {}", s.counts.iter().sum::<i64>(), s.name)).collect();
    let bars = series
        .iter()
        .enumerate()
        .flat_map(|(n, s)| {
            s.counts.iter().enumerate().map(move |(b, &count)| {
                let height = if count == 0 { 0.0 } else { (count as f64 / highest as f64 * (HEIGHT - 2.0)).max(1.0) };
                let start = Timestamp(since + bucket_ms * b as i64);
                view! {
                    <rect
                        class=s.class
                        x=format!("{:.2}", b as f64 * group + n as f64 * bar)
                        y=format!("{:.2}", HEIGHT - height)
                        width=format!("{:.2}", bar * 0.9)
                        height=format!("{height:.2}")
                        data-count=count
                    >
                        <title>{format!("{}: {count} {}", start.format_minutes(), s.name)}</title>
                    </rect>
                }
            })
        })
        .collect_view();
    view! {
        <svg
            class="chart"
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            preserveAspectRatio="none"
            role="img"
            aria-label=format!("{label}: {}", totals.join(", "))
            data-testid="chart"
        >
            <line class="baseline" x1="0" y1=HEIGHT x2=WIDTH y2=HEIGHT />
            {bars}
        </svg>
    }
}
