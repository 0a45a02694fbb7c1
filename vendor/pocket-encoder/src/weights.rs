use crate::{Error, inference};
use std::collections::HashMap;

pub(crate) struct Weight {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// A 4-bit matrix as stored (in the binary's read-only data). [`Bundle::load`] expands the
/// ones it is asked to; the word embeddings stay packed and are read a row at a time (a text
/// reads a few dozen rows of 30,522: 45 MiB of F32 never touched).
pub(crate) struct Packed {
    pub shape: Vec<usize>,
    nibbles: &'static [u8],
    scales: &'static [u8],
}

impl Packed {
    /// Element `i` (row-major). The one dequantization formula: expanded matrices and
    /// packed rows hold the same values.
    fn value(&self, i: usize) -> f32 {
        let nibble = (self.nibbles[i / 2] >> ((i % 2) * 4)) & 15;
        let scale = half::f16::from_bits(u16::from_le_bytes([
            self.scales[2 * (i / 32)],
            self.scales[2 * (i / 32) + 1],
        ]))
        .to_f32();
        (nibble as i16 - 8) as f32 * scale
    }

    /// Writes row `row` as F32 into `out` (one row's length).
    pub fn row_into(&self, row: usize, out: &mut [f32]) {
        let width = self.shape[1];
        debug_assert!(row < self.shape[0] && out.len() == width);
        for (offset, value) in out.iter_mut().enumerate() {
            *value = self.value(row * width + offset);
        }
    }

    fn expand(&self) -> Vec<f32> {
        (0..self.shape.iter().product())
            .map(|i| self.value(i))
            .collect()
    }
}

static MODEL: &[u8] = include_bytes!("../assets/model.safetensors");

/// The bundled tensors and their shapes, read once.
pub(crate) struct Bundle {
    file: safetensors::SafeTensors<'static>,
    shapes: HashMap<String, Vec<usize>>,
}

impl Bundle {
    pub fn open() -> Result<Self, Error> {
        Ok(Self {
            file: safetensors::SafeTensors::deserialize(MODEL).map_err(inference)?,
            shapes: serde_json::from_str(include_str!("../assets/shapes.json"))
                .map_err(inference)?,
        })
    }

    /// The 2-D weight `name`, left packed.
    pub fn packed(&self, name: &str) -> Result<Packed, Error> {
        let shape = self
            .shapes
            .get(name)
            .filter(|shape| shape.len() == 2)
            .ok_or_else(|| inference("missing bundled weight"))?
            .clone();
        let count = shape.iter().product::<usize>();
        let nibbles = self
            .file
            .tensor(&format!("{name}.q4"))
            .map_err(inference)?
            .data();
        let scales = self
            .file
            .tensor(&format!("{name}.scales"))
            .map_err(inference)?
            .data();
        if nibbles.len() * 2 < count || scales.len() / 2 * 32 < count {
            return Err(inference("invalid bundled quantized tensor length"));
        }
        Ok(Packed {
            shape,
            nibbles,
            scales,
        })
    }

    /// Every weight but those named in `except`, expanded to F32 (1-D ones are stored so).
    pub fn load(&self, except: &[&str]) -> Result<HashMap<String, Weight>, Error> {
        let mut weights = HashMap::new();
        for (name, shape) in &self.shapes {
            if except.contains(&name.as_str()) {
                continue;
            }
            let data = if shape.len() < 2 {
                self.file
                    .tensor(name)
                    .map_err(inference)?
                    .data()
                    .as_chunks::<4>()
                    .0
                    .iter()
                    .map(|b| f32::from_le_bytes(*b))
                    .collect::<Vec<_>>()
            } else {
                self.packed(name)?.expand()
            };
            if data.len() != shape.iter().product::<usize>() {
                return Err(inference("invalid bundled tensor length"));
            }
            let shape = shape.clone();
            weights.insert(name.clone(), Weight { shape, data });
        }
        Ok(weights)
    }
}
