//! Pieces the pages share: the page frame, forms, error pages, the section loader, tables, and
//! how statuses and times are shown.

pub mod chart;
pub mod data;
pub mod errors;
pub mod form;
pub mod layout;
pub mod payment;
pub mod status;
pub mod table;
pub mod time;
