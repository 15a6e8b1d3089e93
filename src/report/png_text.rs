//! Text in the PNG charts, laid out right at 1×: a drawing backend that is
//! plotters' bitmap backend but for text, which it rasterises itself with
//! `ab_glyph` and the embedded DejaVu Sans.
//!
//! Plotters' own `ab_glyph` text drops each glyph's left side bearing (`s leep`)
//! and truncates each glyph's vertical offset toward zero, so short glyphs sit
//! a pixel higher than tall ones (a period drawn raised, `done·txt`). Here every
//! glyph is placed at its pen position on one baseline (`ab_glyph` keeps the
//! fraction), kerning included, and measured the same way for the layout.

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use plotters::backend::BitMapBackend;
use plotters::prelude::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontStyle,
};

/// Plotters' bitmap backend with text drawn by [`layout`].
pub struct PngText<'a>(pub BitMapBackend<'a>);

type Error<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

/// The embedded face of a style (bold, else regular).
fn face(style: FontStyle) -> Result<FontRef<'static>, ab_glyph::InvalidFont> {
    let bytes = match style {
        FontStyle::Bold => dejavu::sans::bold(),
        _ => dejavu::sans::regular(),
    };
    FontRef::try_from_slice(bytes)
}

/// A laid-out line: its width and height (ascent − descent) and each glyph
/// with its pen position on the baseline (at `ascent` from the top).
pub struct Line {
    /// Advance width, kerning included.
    pub width: f32,
    /// Ascent − descent.
    pub height: f32,
    /// Baseline from the top.
    pub ascent: f32,
    glyphs: Vec<(GlyphId, f32)>,
}

/// Lays out `text` at `size` pixels.
pub fn layout(font: &FontRef<'_>, size: f32, text: &str) -> Line {
    let scaled = font.as_scaled(PxScale::from(size));
    let mut x = 0.0f32;
    let mut prev: Option<GlyphId> = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            x += scaled.kern(p, id);
        }
        glyphs.push((id, x));
        x += scaled.h_advance(id);
        prev = Some(id);
    }
    Line {
        width: x,
        height: scaled.ascent() - scaled.descent(),
        ascent: scaled.ascent(),
        glyphs,
    }
}

impl Line {
    /// Calls `ink(x, y, coverage)` for every pixel the line covers, `(0, 0)`
    /// the top left of its box.
    pub fn rasterise(&self, font: &FontRef<'_>, size: f32, mut ink: impl FnMut(i32, i32, f32)) {
        for &(id, x) in &self.glyphs {
            let glyph = id.with_scale_and_position(PxScale::from(size), point(x, self.ascent));
            if let Some(outline) = font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|gx, gy, c| {
                    ink(b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32, c)
                });
            }
        }
    }
}

impl<'a> DrawingBackend for PngText<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), Error<'a>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), Error<'a>> {
        self.0.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error<'a>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.0.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), Error<'a>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), Error<'a>> {
        let font = face(style.style()).map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let line = layout(&font, style.size() as f32, text);
        Ok((line.width.ceil() as u32, line.height.ceil() as u32))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), Error<'a>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let font = face(style.style()).map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let size = style.size() as f32;
        let line = layout(&font, size, text);
        let (w, h) = (line.width.round() as i32, line.height.round() as i32);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -w,
            HPos::Center => -w / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -h / 2,
            VPos::Bottom => -h,
        };
        let trans = style.transform();
        let mut pixels = Vec::new();
        line.rasterise(&font, size, |x, y, c| pixels.push((x, y, c)));
        for (x, y, c) in pixels {
            let (x, y) = trans.transform(x + dx, y + dy);
            let ink = BackendColor {
                alpha: color.alpha * f64::from(c.clamp(0.0, 1.0)),
                rgb: color.rgb,
            };
            self.0.draw_pixel((pos.0 + x, pos.1 + y), ink)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pixels a line inks (coverage over `min`).
    fn ink(text: &str, size: f32, min: f32) -> Vec<(i32, i32)> {
        let font = face(FontStyle::Normal).unwrap();
        let line = layout(&font, size, text);
        let mut out = Vec::new();
        line.rasterise(&font, size, |x, y, c| {
            if c > min {
                out.push((x, y));
            }
        });
        out
    }

    #[test]
    fn a_period_sits_on_the_baseline_of_its_letters() {
        for size in [13.0, 14.0, 15.0, 16.0, 22.0] {
            let font = face(FontStyle::Normal).unwrap();
            let line = layout(&font, size, "x.x");
            let period_x = line.glyphs[1].1;
            let next_x = line.glyphs[2].1;
            let pixels = ink("x.x", size, 0.5);
            let bottom = |keep: &dyn Fn(i32) -> bool| {
                pixels
                    .iter()
                    .filter(|(x, _)| keep(*x))
                    .map(|p| p.1)
                    .max()
                    .unwrap()
            };
            let x_bottom = bottom(&|x| (x as f32) < period_x);
            let dot_bottom = bottom(&|x| (x as f32) >= period_x && (x as f32) < next_x);
            assert_eq!(dot_bottom, x_bottom, "{size} px: the period's bottom row");
        }
    }

    #[test]
    fn every_glyph_is_inked_where_the_font_places_it() {
        let font = face(FontStyle::Normal).unwrap();
        for (text, size) in [
            ("sleep", 14.0),
            ("frontend/", 15.0),
            ("2.9 min", 14.0),
            ("done.txt", 13.0),
        ] {
            let line = layout(&font, size, text);
            let scaled = font.as_scaled(PxScale::from(size));
            for &(id, x) in &line.glyphs {
                // where the font's own outline puts the ink, from its unscaled bounds
                let Some(outline) = font.outline(id) else {
                    continue; // a space
                };
                let left = x + outline.bounds.min.x * scaled.h_scale_factor();
                let bottom = line.ascent - outline.bounds.max.y * scaled.v_scale_factor();
                let alone = Line {
                    glyphs: vec![(id, x)],
                    ..layout(&font, size, "")
                };
                let mut inked = Vec::new();
                alone.rasterise(&font, size, |px, py, c| {
                    if c > 0.0 {
                        inked.push((px, py));
                    }
                });
                let min_x = inked.iter().map(|p| p.0).min().unwrap();
                let max_y = inked.iter().map(|p| p.1).max().unwrap();
                // the left side bearing kept, the baseline shared (within a pixel)
                assert!(
                    (min_x as f32 - left.floor()).abs() <= 1.0,
                    "{text:?} at {size} px: a glyph inked from column {min_x}, placed at {left}"
                );
                assert!(
                    (max_y as f32 - (bottom.ceil() - 1.0)).abs() <= 1.0,
                    "{text:?} at {size} px: a glyph inked down to row {max_y}, placed to {bottom}"
                );
            }
        }
    }
}
