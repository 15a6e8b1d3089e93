//! Rule A10 of `grammars/buildkit-plain.ebnf` (and the layer statuses of
//! `rawjson.md`): a vertex's fetch statuses, layer by layer, into its [`Fetch`].

use super::plain::{FetchPart, FetchStatus};
use crate::model::{Fetch, total_seconds};

/// The last figures of one layer.
#[derive(Debug, Clone, PartialEq)]
struct Layer {
    digest: Box<[u8]>,
    download: Option<f64>,
    extract: Option<f64>,
    bytes: Option<u64>,
    /// A download status was read (its size may still be unknown).
    downloaded: bool,
}

/// The most layers kept for one vertex: an image has at most 127 (overlayfs's
/// limit), so more are junk; past it new digests are ignored, which keeps
/// memory and the digest lookup bounded on any input.
pub const MAX_LAYERS: usize = 1024;

/// The layers of one vertex, in the order first seen (a vertex fetches a few).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layers(Vec<Layer>);

impl Layers {
    /// Reads one fetch status: the last figure of each layer wins.
    pub fn record(&mut self, status: &FetchStatus<'_>) {
        let at = match self.0.iter().position(|l| *l.digest == *status.digest) {
            Some(at) => at,
            None if self.0.len() >= MAX_LAYERS => return,
            None => {
                self.0.push(Layer {
                    digest: status.digest.into(),
                    download: None,
                    extract: None,
                    bytes: None,
                    downloaded: false,
                });
                self.0.len() - 1
            }
        };
        let layer = &mut self.0[at];
        match status.part {
            FetchPart::Download => {
                layer.downloaded = true;
                layer.download = status.seconds.or(layer.download);
                layer.bytes = status.bytes.or(layer.bytes);
            }
            FetchPart::Extract => layer.extract = status.seconds.or(layer.extract),
        }
    }

    /// The vertex's fetch, `None` without a layer.
    pub fn fetch(&self) -> Option<Fetch> {
        if self.0.is_empty() {
            return None;
        }
        let bytes = self
            .0
            .iter()
            .filter(|l| l.downloaded)
            .try_fold(0u64, |sum, l| l.bytes.map(|b| sum.saturating_add(b)));
        let seconds = total_seconds(
            self.0
                .iter()
                .map(|l| l.download.unwrap_or(0.0) + l.extract.unwrap_or(0.0)),
        );
        Some(Fetch {
            layers: u32::try_from(self.0.len()).unwrap_or(u32::MAX),
            bytes: bytes.filter(|_| self.0.iter().any(|l| l.downloaded)),
            seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::plain::fetch_status;

    fn layers(lines: &[String]) -> Option<Fetch> {
        let mut l = Layers::default();
        for line in lines {
            l.record(&fetch_status(line.as_bytes()).expect("a fetch status"));
        }
        l.fetch()
    }

    #[test]
    fn the_last_figure_of_each_layer_wins() {
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        // a download split over several progress updates, then its extraction
        let f = layers(&[
            format!("{a} 1.05MB / 33.55MB 0.2s"),
            format!("{b} 512B / 512B 0.1s done"),
            format!("{a} 20.00MB / 33.55MB 2.1s"),
            format!("{a} 33.55MB / 33.55MB 4.7s done"),
            format!("extracting {a} 1.2s"),
            format!("extracting {a} 1.3s done"),
        ])
        .unwrap();
        assert_eq!((f.layers, f.bytes), (2, Some(33_550_512)));
        assert!(
            (f.seconds - (4.7 + 1.3 + 0.1)).abs() < 1e-9,
            "{}",
            f.seconds
        );
        // the old printer: no sizes; a status without time keeps the one before
        let f = layers(&[
            format!("pulling {a}"),
            format!("pulling {a} 0.1s done"),
            format!("pulling {b} 0.0s done"),
        ])
        .unwrap();
        assert_eq!((f.layers, f.bytes), (2, None));
        assert!((f.seconds - 0.1).abs() < 1e-9);
        // an extraction alone has no size to miss
        let f = layers(&[format!("extracting {a} 0.5s done")]).unwrap();
        assert_eq!((f.layers, f.bytes), (1, None));
        // junk past the cap is not kept
        let many: Vec<String> = (0..MAX_LAYERS + 5)
            .map(|i| format!("sha256:{i:064x} 1B 0.1s done"))
            .collect();
        assert_eq!(layers(&many).unwrap().layers as usize, MAX_LAYERS);
        assert_eq!(Layers::default().fetch(), None);
    }
}
