//! Kanri's copy runs the native F32 backend everywhere, where upstream ran Candle's BERT. The
//! vectors in `candle.json` were made by upstream 0.1.2 on x86_64 (Candle), one call with all
//! the texts; this copy must give the same coordinates, in one batch and one text at a time.

use pocket_encoder::Encoder;

fn golden() -> (Vec<String>, Vec<Vec<f32>>) {
    let value: serde_json::Value = serde_json::from_str(include_str!("candle.json")).unwrap();
    let texts = value["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    let vectors = value["embeddings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    (texts, vectors)
}

fn max_error(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

#[test]
fn batched_native_vectors_match_candle() -> Result<(), Box<dyn std::error::Error>> {
    let (texts, expected) = golden();
    assert!(texts.len() >= 10);
    let encoder = Encoder::new()?;
    let batched = encoder.embed(&texts)?;
    for (i, (text, want)) in texts.iter().zip(&expected).enumerate() {
        let alone = &encoder.embed(&[text])?[0];
        assert!(
            max_error(&batched[i], want) < 2e-5,
            "text {i}: batched drifts from Candle"
        );
        assert!(
            max_error(alone, want) < 2e-5,
            "text {i}: alone drifts from Candle"
        );
        assert!(
            max_error(alone, &batched[i]) < 1e-6,
            "text {i}: batch changed its vector"
        );
    }
    Ok(())
}

#[test]
fn a_batch_longer_than_one_pass_keeps_order() -> Result<(), Box<dyn std::error::Error>> {
    let (texts, expected) = golden();
    // 13 texts, one of them 128 tokens: repeated, well past one pass's token budget.
    let many: Vec<&String> = texts.iter().cycle().take(texts.len() * 20).collect();
    let vectors = Encoder::new()?.embed(&many)?;
    assert_eq!(vectors.len(), many.len());
    for (i, vector) in vectors.iter().enumerate() {
        assert!(
            max_error(vector, &expected[i % texts.len()]) < 2e-5,
            "position {i}"
        );
    }
    Ok(())
}
