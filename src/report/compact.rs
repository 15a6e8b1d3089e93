//! Compact JSON into a byte buffer, for the NDJSON writer: the bytes
//! `serde_json`'s compact serializer writes under [`super::escape`]'s rule
//! (what a terminal obeys is `\uXXXX`), without its loop over every byte of
//! every string. Strings are scanned eight bytes at a time
//! ([`super::escape::json_str`]); numbers are written by `serde_json`'s own
//! formatter, field names and enum variants (names in our code) as they are.
//! `tests` checks the bytes against `serde_json` on every record kind.

use std::io;

use serde::Serialize;
use serde::ser::{self, Error as _};
use serde_json::ser::{CompactFormatter, Formatter};

use super::escape::json_str;

/// Appends `value` as one line of compact JSON (no newline) to `out`.
pub fn to_vec<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), serde_json::Error> {
    value.serialize(&mut Compact { out })
}

/// The serializer: everything goes to `out`.
struct Compact<'a> {
    out: &'a mut Vec<u8>,
}

impl Compact<'_> {
    fn number(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>,
    ) -> Result<(), serde_json::Error> {
        write(self.out).map_err(serde_json::Error::io)
    }

    /// `"name"` for a name from our code (a field, an enum variant): no escaping.
    #[inline(always)]
    fn name(&mut self, name: &str) {
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'"');
    }
}

/// An array or an object being written: whether a comma comes first, and what closes it
/// (`]`, `}`, or `}}` for a variant's `{"name":{…}}`).
struct Compound<'s, 'a> {
    ser: &'s mut Compact<'a>,
    first: bool,
    close: &'static [u8],
}

impl Compound<'_, '_> {
    #[inline(always)]
    fn comma(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.ser.out.push(b',');
        }
    }

    fn close(self) {
        self.ser.out.extend_from_slice(self.close);
    }
}

impl<'s, 'a> ser::Serializer for &'s mut Compact<'a> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Compound<'s, 'a>;
    type SerializeTuple = Compound<'s, 'a>;
    type SerializeTupleStruct = Compound<'s, 'a>;
    type SerializeTupleVariant = Compound<'s, 'a>;
    type SerializeMap = Compound<'s, 'a>;
    type SerializeStruct = Compound<'s, 'a>;
    type SerializeStructVariant = Compound<'s, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Self::Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Self::Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Self::Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Self::Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Self::Error> {
        self.number(|w| CompactFormatter.write_i64(w, v))
    }
    fn serialize_i128(self, v: i128) -> Result<(), Self::Error> {
        self.number(|w| CompactFormatter.write_i128(w, v))
    }
    fn serialize_u8(self, v: u8) -> Result<(), Self::Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Self::Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Self::Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Self::Error> {
        self.number(|w| CompactFormatter.write_u64(w, v))
    }
    fn serialize_u128(self, v: u128) -> Result<(), Self::Error> {
        self.number(|w| CompactFormatter.write_u128(w, v))
    }
    fn serialize_f32(self, v: f32) -> Result<(), Self::Error> {
        if v.is_finite() {
            self.number(|w| CompactFormatter.write_f32(w, v))
        } else {
            self.serialize_unit()
        }
    }
    fn serialize_f64(self, v: f64) -> Result<(), Self::Error> {
        if v.is_finite() {
            self.number(|w| CompactFormatter.write_f64(w, v))
        } else {
            self.serialize_unit()
        }
    }
    fn serialize_char(self, v: char) -> Result<(), Self::Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Self::Error> {
        json_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Self::Error> {
        ser::Serializer::collect_seq(self, v)
    }
    fn serialize_none(self) -> Result<(), Self::Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Self::Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Self::Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Self::Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Self::Error> {
        self.name(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        self.out.push(b'{');
        self.name(variant);
        self.out.push(b':');
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        self.out.push(b'[');
        Ok(Compound {
            ser: self,
            first: true,
            close: b"]",
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, Self::Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        self.out.push(b'{');
        self.name(variant);
        self.out.extend_from_slice(b":[");
        Ok(Compound {
            ser: self,
            first: true,
            close: b"]}",
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        self.out.push(b'{');
        Ok(Compound {
            ser: self,
            first: true,
            close: b"}",
        })
    }
    fn serialize_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, Self::Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        self.out.push(b'{');
        self.name(variant);
        self.out.extend_from_slice(b":{");
        Ok(Compound {
            ser: self,
            first: true,
            close: b"}}",
        })
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
        self.comma();
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<(), Self::Error> {
        self.close();
        Ok(())
    }
}

/// Tuples are written as arrays.
macro_rules! as_seq {
    ($($trait:ident :: $method:ident),*) => {
        $(impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = serde_json::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
                ser::SerializeSeq::serialize_element(self, value)
            }
            fn end(self) -> Result<(), Self::Error> {
                ser::SerializeSeq::end(self)
            }
        })*
    };
}

as_seq!(
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Self::Error> {
        self.comma();
        key.serialize(KeySerializer(&mut *self.ser))?;
        self.ser.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<(), Self::Error> {
        self.close();
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = serde_json::Error;
    #[inline(always)]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        self.comma();
        self.ser.name(key);
        self.ser.out.push(b':');
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<(), Self::Error> {
        self.close();
        Ok(())
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<(), Self::Error> {
        self.close();
        Ok(())
    }
}

/// Methods of [`KeySerializer`] for what cannot be a key.
macro_rules! refuse {
    ($($name:ident($ty:ty)),*) => {
        $(fn $name(self, _: $ty) -> Result<(), Self::Error> {
            Self::refuse()
        })*
    };
}

/// A map key: a string, escaped (keys of a map are data, not names from our code).
struct KeySerializer<'s, 'a>(&'s mut Compact<'a>);

impl KeySerializer<'_, '_> {
    fn refuse<T>() -> Result<T, serde_json::Error> {
        Err(serde_json::Error::custom(
            "a JSON object key must be a string",
        ))
    }
}

impl ser::Serializer for KeySerializer<'_, '_> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = ser::Impossible<(), serde_json::Error>;
    type SerializeTuple = ser::Impossible<(), serde_json::Error>;
    type SerializeTupleStruct = ser::Impossible<(), serde_json::Error>;
    type SerializeTupleVariant = ser::Impossible<(), serde_json::Error>;
    type SerializeMap = ser::Impossible<(), serde_json::Error>;
    type SerializeStruct = ser::Impossible<(), serde_json::Error>;
    type SerializeStructVariant = ser::Impossible<(), serde_json::Error>;

    fn serialize_str(self, v: &str) -> Result<(), Self::Error> {
        self.0.serialize_str(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Self::Error> {
        self.0.serialize_char(v)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Self::Error> {
        self.0.name(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        value.serialize(self)
    }
    refuse! {
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
        serialize_u64(u64), serialize_f32(f32), serialize_f64(f64), serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str)
    }
    fn serialize_none(self) -> Result<(), Self::Error> {
        Self::refuse()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Self::Error> {
        Self::refuse()
    }
    fn serialize_unit(self) -> Result<(), Self::Error> {
        Self::refuse()
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Self::Error> {
        Self::refuse()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        Self::refuse()
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
        Self::refuse()
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        Self::refuse()
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        Self::refuse()
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Self::refuse()
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Self::Error> {
        Self::refuse()
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        Self::refuse()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Serialize;

    use super::to_vec;
    use crate::report::escape::to_json_writer;

    /// What serde_json with the terminal rule writes.
    fn reference<T: Serialize>(value: &T) -> Vec<u8> {
        let mut out = Vec::new();
        to_json_writer(&mut out, value).unwrap();
        out
    }

    fn compact<T: Serialize>(value: &T) -> Vec<u8> {
        let mut out = Vec::new();
        to_vec(&mut out, value).unwrap();
        out
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, f64),
        Struct { a: Option<String>, b: [u32; 2] },
    }

    #[test]
    fn every_record_of_a_real_log_is_written_as_serde_json_writes_it() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-logs/real");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "log") {
                continue;
            }
            let log = crate::parse::parse_log(&std::fs::read(&path).unwrap(), "x");
            for b in &log.builds {
                assert_eq!(compact(b), reference(b), "{}", path.display());
                for s in &b.steps {
                    assert_eq!(compact(s), reference(s));
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }

    #[test]
    fn every_shape_serde_gives() {
        let mut map = BTreeMap::new();
        map.insert("k\u{1b}\"", vec![Shape::Unit, Shape::Newtype(7)]);
        map.insert(
            "z",
            vec![Shape::Tuple(-3, 0.1), Shape::Struct { a: None, b: [1, 2] }],
        );
        let values =
            serde_json::json!({"f": [1.5, -0.0, 1e300, 12345678901234567890u64], "t": true});
        assert_eq!(compact(&map), reference(&map));
        assert_eq!(compact(&values), reference(&values));
        assert_eq!(
            compact(&(f64::NAN, f32::INFINITY, 'x', ())),
            reference(&(f64::NAN, f32::INFINITY, 'x', ()))
        );
        assert!(
            to_vec(&mut Vec::new(), &BTreeMap::from([(1, 2)])).is_err(),
            "serde_json quotes integer keys; nothing here needs them"
        );
    }

    proptest! {
        #[test]
        fn any_text_is_escaped_as_serde_json_with_the_terminal_rule(
            text in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}\"\\\\])*"
        ) {
            prop_assert_eq!(compact(&text), reference(&text));
        }
    }
}
