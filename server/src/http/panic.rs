//! The 500 page for a handler that panicked: the panic is logged, the client gets a plain page.

use std::any::Any;

use axum::{
    body::Body,
    http::{Response, StatusCode, header},
};

pub fn internal_error_page(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "request handler panicked");
    Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Something went wrong - Billhook</title>\
             <link rel=\"stylesheet\" href=\"/pkg/billhook.css\"></head><body><main><section class=\"card narrow error-page\">\
             <p class=\"status\">500</p><h1>Something went wrong</h1><p>The error has been logged; please try again.</p>\
             <p><a href=\"/\">Back to the start page</a></p></section></main></body></html>",
        ))
        .unwrap_or_else(|_| Response::new(Body::from("internal server error")))
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;

    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_a_500_page_without_its_message() {
        let response = internal_error_page(Box::new("secret internal detail".to_owned()));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let body = String::from_utf8(to_bytes(response.into_body(), 64 * 1024).await.unwrap().to_vec()).unwrap();
        assert!(body.contains("Something went wrong"));
        assert!(!body.contains("secret internal detail"), "the panic message is logged, not shown");
    }
}
