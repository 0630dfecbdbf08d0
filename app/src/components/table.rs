//! A data table: a header row of column names and the rows a section renders.

use leptos::prelude::*;

#[component]
pub fn Table(
    /// Column headings (an empty one for a column of actions).
    columns: &'static [&'static str],
    /// `data-testid` of the table, if tests look for it.
    #[prop(optional)]
    testid: Option<&'static str>,
    /// The `<tr>` rows.
    children: Children,
) -> impl IntoView {
    view! {
        <table data-testid=testid>
            <thead>
                <tr>{columns.iter().map(|c| view! { <th>{*c}</th> }).collect_view()}</tr>
            </thead>
            <tbody>{children()}</tbody>
        </table>
    }
}
