//! Tables whose column names are written once. `table!` declares a row
//! struct, its column names and its polars table together; `names!` declares
//! the columns of a table polars derives.
//! Either way a column is named by its field (`STEP.step_key` is
//! `"step_key"`), so a writer and its readers cannot disagree.
//!
//! [`Cell`] turns a field's type into its column: dates, ISO weeks and
//! statuses stay typed in the rows and are formatted only here.

use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;

use super::rows::IsoWeek;
use crate::model::Status;

/// The names of a table's columns, one `&'static str` field per column,
/// and a constant of the type whose every field is its own name.
macro_rules! names {
    (
        $(#[$meta:meta])*
        pub struct $names:ident = $konst:ident { $($field:ident),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $names {
            $(
                #[doc = concat!("`", stringify!($field), "`")]
                pub $field: &'static str,
            )*
        }

        #[doc = concat!("The column names of [`", stringify!($names), "`].")]
        pub const $konst: $names = $names { $($field: stringify!($field),)* };

        impl $names {
            /// Every column, in the table's order.
            pub fn all(&self) -> Vec<&'static str> {
                vec![$(self.$field),*]
            }
        }
    };
}
pub(crate) use names;

/// A row struct with public fields, the names of its columns (see
/// `names!`) and `frame`, which makes its rows a table: one
/// column per field, in field order, each made by the field type's [`Cell`].
macro_rules! table {
    (
        $(#[$meta:meta])*
        pub struct $row:ident, columns $names:ident = $konst:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $row {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        $crate::analyze::columns::names! {
            #[doc = concat!("The columns of [`", stringify!($row), "`].")]
            pub struct $names = $konst { $($field),* }
        }

        impl $row {
            /// The rows as a table (a slice of them, or any iterator that
            /// can be walked once per column), its columns made in parallel.
            pub fn frame<'a>(
                rows: impl IntoIterator<Item = &'a Self, IntoIter: Clone + Sync>,
            ) -> ::polars::prelude::PolarsResult<::polars::prelude::DataFrame> {
                use ::rayon::prelude::*;
                let rows = rows.into_iter();
                let columns: &[&(dyn Fn() -> ::polars::prelude::Column + Sync)] = &[$(
                    &|| <$ty as $crate::analyze::columns::Cell>::column(
                        $konst.$field,
                        rows.clone().map(|r| &r.$field),
                    ),
                )*];
                // one task a column, in order
                let columns: Vec<_> = columns.par_iter().with_max_len(1).map(|make| make()).collect();
                ::polars::prelude::DataFrame::new(rows.clone().count(), columns)
            }
        }
    };
}
pub(crate) use table;

/// A field type that makes a polars column.
pub trait Cell {
    /// The column `name` of `values`.
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> Column
    where
        Self: 'a;
}

macro_rules! copied_cell {
    ($($ty:ty),*) => {$(
        impl Cell for $ty {
            fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> Column {
                Column::new(name.into(), values.copied().collect::<Vec<_>>())
            }
        }
    )*};
}

copied_cell!(u32, f64, bool, Option<f64>, Option<i64>);

/// Text cells: owned, shared between rows ([`Shared`](super::shared)), or static.
macro_rules! text_cell {
    ($($ty:ty),*) => {$(
        impl Cell for $ty {
            fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> Column {
                Column::new(name.into(), values.map(|t| &**t).collect::<Vec<&str>>())
            }
        }

        impl Cell for Option<$ty> {
            fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> Column {
                Column::new(name.into(), values.map(|t| t.as_deref()).collect::<Vec<Option<&str>>>())
            }
        }
    )*};
}

text_cell!(String, Arc<str>, &'static str);

/// As its name in JSON (`done`, `cached`, …).
impl Cell for Status {
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> Column {
        Column::new(name.into(), values.map(|s| s.as_str()).collect::<Vec<_>>())
    }
}

/// As text, `2026-10-05`.
impl Cell for Option<NaiveDate> {
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> Column {
        let text: Vec<Option<String>> = values.map(|d| d.map(|d| d.to_string())).collect();
        Column::new(name.into(), text)
    }
}

/// As text, `2026-W41`.
impl Cell for Option<IsoWeek> {
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> Column {
        let text: Vec<Option<String>> = values.map(|w| w.map(|w| w.to_string())).collect();
        Column::new(name.into(), text)
    }
}
