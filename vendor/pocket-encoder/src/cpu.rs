//! F32-only execution of the bundled three-layer BERT, with the GEMM F32 kernels Candle uses.
//!
//! Kanri's copy runs this on every target and encodes several inputs in one pass: their
//! tokens are stacked into one matrix for every dense layer (the bulk of the work, and far
//! faster as one large product than as many small ones), while attention stays within each
//! input, so an input's vector does not depend on what it was batched with.
use crate::{
    Error, inference,
    weights::{self, Packed, Weight},
};
use std::collections::HashMap;

const HIDDEN: usize = 384;
const HEADS: usize = 12;
const HEAD: usize = HIDDEN / HEADS;
const INTERMEDIATE: usize = 1536;
const LAYERS: usize = 3;
const VOCABULARY: usize = 30522;
const MAX_POSITIONS: usize = 512;

/// One tokenized input.
pub(crate) struct Tokens<'a> {
    pub ids: &'a [u32],
    pub types: &'a [u32],
    pub mask: &'a [u32],
}

/// A dense layer: `weight` is `[output, width]` (row per output), as stored.
struct Linear {
    weight: Vec<f32>,
    bias: Vec<f32>,
    width: usize,
    output: usize,
}

struct Norm {
    scale: Vec<f32>,
    bias: Vec<f32>,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_output: Linear,
    attention_norm: Norm,
    intermediate: Linear,
    output: Linear,
    output_norm: Norm,
}

const WORDS: &str = "embeddings.word_embeddings.weight";

pub(crate) struct Model {
    /// Left 4-bit: a text reads one row per token.
    words: Packed,
    positions: Vec<f32>,
    token_types: Vec<f32>,
    embeddings_norm: Norm,
    layers: Vec<Layer>,
}

/// Takes the bundled tensors by name, checking each one's shape.
struct Tensors(HashMap<String, Weight>);

impl Tensors {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, Error> {
        let weight = self
            .0
            .remove(name)
            .ok_or_else(|| inference("missing bundled weight"))?;
        if weight.shape != shape {
            return Err(inference("invalid bundled weight shape"));
        }
        Ok(weight.data)
    }

    fn linear(&mut self, name: &str, width: usize, output: usize) -> Result<Linear, Error> {
        Ok(Linear {
            weight: self.take(&format!("{name}.weight"), &[output, width])?,
            bias: self.take(&format!("{name}.bias"), &[output])?,
            width,
            output,
        })
    }

    fn norm(&mut self, name: &str) -> Result<Norm, Error> {
        Ok(Norm {
            scale: self.take(&format!("{name}.weight"), &[HIDDEN])?,
            bias: self.take(&format!("{name}.bias"), &[HIDDEN])?,
        })
    }

    fn layer(&mut self, index: usize) -> Result<Layer, Error> {
        let prefix = format!("encoder.layer.{index}");
        Ok(Layer {
            query: self.linear(&format!("{prefix}.attention.self.query"), HIDDEN, HIDDEN)?,
            key: self.linear(&format!("{prefix}.attention.self.key"), HIDDEN, HIDDEN)?,
            value: self.linear(&format!("{prefix}.attention.self.value"), HIDDEN, HIDDEN)?,
            attention_output: self.linear(
                &format!("{prefix}.attention.output.dense"),
                HIDDEN,
                HIDDEN,
            )?,
            attention_norm: self.norm(&format!("{prefix}.attention.output.LayerNorm"))?,
            intermediate: self.linear(
                &format!("{prefix}.intermediate.dense"),
                HIDDEN,
                INTERMEDIATE,
            )?,
            output: self.linear(&format!("{prefix}.output.dense"), INTERMEDIATE, HIDDEN)?,
            output_norm: self.norm(&format!("{prefix}.output.LayerNorm"))?,
        })
    }
}

impl Model {
    pub fn load() -> Result<Self, Error> {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../assets/config.json")).map_err(inference)?;
        if config["hidden_size"] != HIDDEN
            || config["num_attention_heads"] != HEADS
            || config["num_hidden_layers"] != LAYERS
            || config["intermediate_size"] != INTERMEDIATE
            || config["hidden_act"] != "gelu"
            || config["layer_norm_eps"] != 1e-12
        {
            return Err(inference("unsupported bundled MiniLM configuration"));
        }
        let bundle = weights::Bundle::open()?;
        let words = bundle.packed(WORDS)?;
        if words.shape != [VOCABULARY, HIDDEN] {
            return Err(inference("invalid bundled weight shape"));
        }
        let mut tensors = Tensors(bundle.load(&[WORDS])?);
        Ok(Self {
            words,
            positions: tensors.take(
                "embeddings.position_embeddings.weight",
                &[MAX_POSITIONS, HIDDEN],
            )?,
            token_types: tensors.take("embeddings.token_type_embeddings.weight", &[2, HIDDEN])?,
            embeddings_norm: tensors.norm("embeddings.LayerNorm")?,
            layers: (0..LAYERS)
                .map(|index| tensors.layer(index))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The attention-masked sum of the last hidden states of each input (not yet normalised).
    pub fn pooled(&self, inputs: &[Tokens<'_>]) -> Result<Vec<Vec<f32>>, Error> {
        // Row offsets of each input in the stacked token matrix.
        let mut spans = Vec::with_capacity(inputs.len());
        let mut rows = 0;
        for input in inputs {
            let n = input.ids.len();
            if n == 0 || n > 128 || input.types.len() != n || input.mask.len() != n {
                return Err(inference("invalid token dimensions"));
            }
            spans.push(rows..rows + n);
            rows += n;
        }
        let mut hidden = vec![0.0; rows * HIDDEN];
        for (input, span) in inputs.iter().zip(&spans) {
            let rows = &mut hidden[span.start * HIDDEN..span.end * HIDDEN];
            for (position, ((&id, &kind), row)) in input
                .ids
                .iter()
                .zip(input.types)
                .zip(rows.chunks_exact_mut(HIDDEN))
                .enumerate()
            {
                let (id, kind) = (id as usize, kind as usize);
                if id >= VOCABULARY || kind >= 2 {
                    return Err(inference("invalid token id"));
                }
                self.words.row_into(id, row);
                let token_type = &self.token_types[kind * HIDDEN..][..HIDDEN];
                let place = &self.positions[position * HIDDEN..][..HIDDEN];
                for (j, value) in row.iter_mut().enumerate() {
                    *value = (*value + token_type[j]) + place[j];
                }
            }
        }
        norm(&mut hidden, &self.embeddings_norm);
        for layer in &self.layers {
            hidden = layer.forward(&hidden, rows, inputs, &spans);
        }
        Ok(inputs
            .iter()
            .zip(&spans)
            .map(|(input, span)| {
                let mut pooled = vec![0.0; HIDDEN];
                let rows = &hidden[span.start * HIDDEN..span.end * HIDDEN];
                for (row, &mask) in rows.chunks_exact(HIDDEN).zip(input.mask) {
                    for (sum, &v) in pooled.iter_mut().zip(row) {
                        *sum += v * mask as f32;
                    }
                }
                pooled
            })
            .collect())
    }
}

impl Layer {
    fn forward(
        &self,
        hidden: &[f32],
        rows: usize,
        inputs: &[Tokens<'_>],
        spans: &[std::ops::Range<usize>],
    ) -> Vec<f32> {
        let query = self.query.apply(hidden, rows);
        let key = self.key.apply(hidden, rows);
        let value = self.value.apply(hidden, rows);
        let mut context = vec![0.0; rows * HIDDEN];
        for (input, span) in inputs.iter().zip(spans) {
            let range = span.start * HIDDEN..span.end * HIDDEN;
            attend(
                &query[range.clone()],
                &key[range.clone()],
                &value[range.clone()],
                input.mask,
                &mut context[range],
            );
        }
        let mut attention = self.attention_output.apply(&context, rows);
        for (a, h) in attention.iter_mut().zip(hidden) {
            *a += h;
        }
        norm(&mut attention, &self.attention_norm);
        let mut intermediate = self.intermediate.apply(&attention, rows);
        for v in &mut intermediate {
            *v = (libm::erff(*v * std::f32::consts::FRAC_1_SQRT_2) + 1.0) * 0.5 * *v;
        }
        let mut output = self.output.apply(&intermediate, rows);
        for (h, a) in output.iter_mut().zip(attention) {
            *h += a;
        }
        norm(&mut output, &self.output_norm);
        output
    }
}

/// Multi-head self-attention of one input: `query`, `key`, `value` and `context` are its
/// `n × HIDDEN` rows.
fn attend(query: &[f32], key: &[f32], value: &[f32], mask: &[u32], context: &mut [f32]) {
    let n = mask.len();
    let scale = (HEAD as f64).sqrt();
    for head in 0..HEADS {
        let gather = |values: &[f32]| {
            values
                .chunks_exact(HIDDEN)
                .flat_map(|row| row[head * HEAD..(head + 1) * HEAD].iter().copied())
                .collect::<Vec<_>>()
        };
        let q = gather(query);
        let k = gather(key);
        let v = gather(value);
        let mut scores = matmul(&q, n, HEAD, &k, n, true);
        for row in scores.chunks_exact_mut(n) {
            for (score, &mask) in row.iter_mut().zip(mask) {
                *score = (*score as f64 / scale) as f32;
                *score += if mask == 0 { f32::MIN } else { 0.0 };
            }
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for score in row.iter_mut() {
                *score = (*score - max).exp();
                sum += *score;
            }
            for score in row {
                *score /= sum;
            }
        }
        let head_values = matmul(&scores, n, n, &v, HEAD, false);
        for (row, values) in context
            .chunks_exact_mut(HIDDEN)
            .zip(head_values.chunks_exact(HEAD))
        {
            row[head * HEAD..(head + 1) * HEAD].copy_from_slice(values);
        }
    }
}

impl Linear {
    fn apply(&self, input: &[f32], rows: usize) -> Vec<f32> {
        let mut result = matmul(input, rows, self.width, &self.weight, self.output, true);
        for row in result.chunks_exact_mut(self.output) {
            for (value, bias) in row.iter_mut().zip(&self.bias) {
                *value += bias;
            }
        }
        result
    }
}

fn norm(values: &mut [f32], norm: &Norm) {
    for row in values.chunks_exact_mut(HIDDEN) {
        // Match Candle's F32 layer-norm reduction and epsilon.
        let mut sum = 0.0f32;
        let mut sum2 = 0.0f32;
        for &v in row.iter() {
            sum += v;
            sum2 += v * v;
        }
        let mean = sum / HIDDEN as f32;
        let inverse = (sum2 / HIDDEN as f32 - mean * mean + 1e-12).sqrt().recip();
        for ((v, scale), bias) in row.iter_mut().zip(&norm.scale).zip(&norm.bias) {
            *v = (*v - mean) * inverse * scale + bias;
        }
    }
}

fn matmul(
    lhs: &[f32],
    rows: usize,
    width: usize,
    rhs: &[f32],
    cols: usize,
    transpose: bool,
) -> Vec<f32> {
    assert_eq!(lhs.len(), rows * width);
    assert_eq!(rhs.len(), width * cols);
    let mut output = vec![0.0; rows * cols];
    // All matrices are owned contiguous F32 slices. Lengths are checked above;
    // transposition changes strides only, and output cannot alias either input.
    unsafe {
        gemm::gemm(
            rows,
            cols,
            width,
            output.as_mut_ptr(),
            1,
            cols as isize,
            false,
            lhs.as_ptr(),
            1,
            width as isize,
            rhs.as_ptr(),
            if transpose { width as isize } else { 1 },
            if transpose { 1 } else { cols as isize },
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_layouts_match_scalar_products() {
        let a = [1., 2., 3., 4., 5., 6.];
        let b = [7., 8., 9., 10., 11., 12.];
        assert_eq!(matmul(&a, 2, 3, &b, 2, false), [58., 64., 139., 154.]);
        assert_eq!(
            matmul(&a, 2, 3, &[7., 9., 11., 8., 10., 12.], 2, true),
            [58., 64., 139., 154.]
        );
    }
}
