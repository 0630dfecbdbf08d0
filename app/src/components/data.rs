//! Loading a section's data, written once: `<Transition>` (the first load shows the fallback, a
//! reload keeps the old content until the new one is there), an `<ErrorBoundary>` that shows
//! the error's text, and `Suspend` to await the resource - leptos' todo_app_sqlite_axum pattern.
//!
//! ```ignore
//! let exports = Resource::new(|| (), |_| my_exports());
//! view! { <Loaded resource=exports let:list> <ExportTable list /> </Loaded> }
//! ```

use leptos::prelude::*;

use super::errors::set_status;
use crate::AppError;

/// Renders `children` with the value of `resource` once it has loaded. A failure shows its
/// [`AppError`] text in place of the section and, on the server, becomes the page's status (the
/// areas render with `SsrMode::Async`, so the status is still open when the data arrives).
#[component]
pub fn Loaded<T, C, V>(
    resource: Resource<Result<T, AppError>>,
    /// Renders the loaded value.
    children: C,
    /// Shown during the first load (nothing by default).
    #[prop(optional, into)]
    fallback: ViewFnOnce,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    C: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=fallback>
            <ErrorBoundary fallback=|errors| view! { <LoadErrors errors /> }>
                {move || {
                    let children = children.clone();
                    Suspend::new(async move { resource.await.map(children) })
                }}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn LoadErrors(errors: ArcRwSignal<Errors>) -> impl IntoView {
    move || {
        errors
            .get()
            .into_iter()
            .map(|(_, error)| {
                let status =
                    error.downcast_ref::<AppError>().map_or(http::StatusCode::INTERNAL_SERVER_ERROR, AppError::status);
                set_status(status);
                view! { <p class="error" role="alert">{error.to_string()}</p> }
            })
            .collect_view()
    }
}

/// Reloads `data` every `seconds()` seconds (0: never) while the tab is visible, following
/// changes of `seconds()`. Browser only: the server renders once.
pub fn refetch_every<T>(data: Resource<Result<T, AppError>>, seconds: impl Fn() -> u32 + Send + Sync + 'static)
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    Effect::new(move |previous: Option<Option<IntervalHandle>>| {
        if let Some(Some(handle)) = previous {
            handle.clear();
        }
        let every = seconds();
        (every > 0)
            .then(|| {
                set_interval_with_handle(
                    move || {
                        if !document().hidden() {
                            data.refetch();
                        }
                    },
                    std::time::Duration::from_secs(u64::from(every)),
                )
                .ok()
            })
            .flatten()
    });
}
