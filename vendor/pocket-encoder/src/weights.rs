use crate::{Error, inference};
use std::collections::HashMap;

pub(crate) struct Weight {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// A 4-bit matrix left as stored (in the binary's read-only data): rows are expanded when
/// read. For the word embeddings, of which a text reads a few dozen rows of 30,522, this
/// saves 45 MiB of F32 that were never touched.
pub(crate) struct Packed {
    pub shape: Vec<usize>,
    nibbles: &'static [u8],
    scales: &'static [u8],
}

impl Packed {
    /// Writes row `row` as F32 into `out` (one row's length): exactly the values [`load`]
    /// would have expanded.
    pub fn row_into(&self, row: usize, out: &mut [f32]) {
        let width = self.shape[1];
        debug_assert!(row < self.shape[0] && out.len() == width && width.is_multiple_of(32));
        let start = row * width;
        for (offset, value) in out.iter_mut().enumerate() {
            let i = start + offset;
            let nibble = (self.nibbles[i / 2] >> ((i % 2) * 4)) & 15;
            let scale = half::f16::from_bits(u16::from_le_bytes([
                self.scales[2 * (i / 32)],
                self.scales[2 * (i / 32) + 1],
            ]))
            .to_f32();
            *value = (nibble as i16 - 8) as f32 * scale;
        }
    }
}

static MODEL: &[u8] = include_bytes!("../assets/model.safetensors");

/// The 2-D weight `name`, left packed.
pub(crate) fn packed(name: &str) -> Result<Packed, Error> {
    let file = safetensors::SafeTensors::deserialize(MODEL).map_err(inference)?;
    let shapes: HashMap<String, Vec<usize>> =
        serde_json::from_str(include_str!("../assets/shapes.json")).map_err(inference)?;
    let shape = shapes
        .get(name)
        .filter(|shape| shape.len() == 2 && shape[1].is_multiple_of(32))
        .ok_or_else(|| inference("missing bundled weight"))?
        .clone();
    let count = shape.iter().product::<usize>();
    let nibbles = file
        .tensor(&format!("{name}.q4"))
        .map_err(inference)?
        .data();
    let scales = file
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

/// Every weight but those named in `packed`, expanded to F32.
pub(crate) fn load(packed: &[&str]) -> Result<HashMap<String, Weight>, Error> {
    let file = safetensors::SafeTensors::deserialize(MODEL).map_err(inference)?;
    let shapes: HashMap<String, Vec<usize>> =
        serde_json::from_str(include_str!("../assets/shapes.json")).map_err(inference)?;
    let mut weights = HashMap::new();
    for (name, shape) in shapes {
        if packed.contains(&name.as_str()) {
            continue;
        }
        let count = shape.iter().product::<usize>();
        let data = if shape.len() < 2 {
            file.tensor(&name)
                .map_err(inference)?
                .data()
                .as_chunks::<4>()
                .0
                .iter()
                .map(|b| f32::from_le_bytes(*b))
                .collect::<Vec<_>>()
        } else {
            let packed = file.tensor(&format!("{name}.q4")).map_err(inference)?;
            let scales = file.tensor(&format!("{name}.scales")).map_err(inference)?;
            let scales = scales
                .data()
                .as_chunks::<2>()
                .0
                .iter()
                .map(|b| half::f16::from_bits(u16::from_le_bytes(*b)).to_f32())
                .collect::<Vec<_>>();
            if packed.data().len() * 2 < count || scales.len() * 32 < count {
                return Err(inference("invalid bundled quantized tensor length"));
            }
            (0..count)
                .map(|i| {
                    let nibble = (packed.data()[i / 2] >> ((i % 2) * 4)) & 15;
                    (nibble as i16 - 8) as f32 * scales[i / 32]
                })
                .collect()
        };
        if data.len() != count {
            return Err(inference("invalid bundled tensor length"));
        }
        weights.insert(name, Weight { shape, data });
    }
    Ok(weights)
}
