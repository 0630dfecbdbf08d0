//! The browser entry point: hydrates the server-rendered page into the interactive app. The
//! pages behind `/account` and `/admin` are lazy routes (split-off WASM chunks with
//! `cargo leptos build --split`): hydration first loads the chunk of the page being shown, and
//! only then marks the page as hydrated.

use leptos::prelude::document;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // hydrate_from_async sets up Leptos' executor on wasm-bindgen-futures itself.
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = document().body() else { return };
        leptos::mount::hydrate_from_async(body.clone(), app::App).await.forget();
        // The WASM has taken over, the page's own chunk included: what the end-to-end tests wait for
        // before they click.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
