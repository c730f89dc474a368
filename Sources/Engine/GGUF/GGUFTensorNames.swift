/// llama.cpp's tensor names for the Llama family, and the Hugging Face names they stand for (docs/GGUF.md,
/// "Tensor names").
public enum GGUFTensorNames {
    /// Names outside the blocks.
    static let global: [String: String] = [
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    ]

    /// `blk.N.<key>` → `model.layers.N.<value>`.
    static let perBlock: [String: String] = [
        "attn_norm": "input_layernorm",
        "ffn_norm": "post_attention_layernorm",
        "attn_q": "self_attn.q_proj",
        "attn_k": "self_attn.k_proj",
        "attn_v": "self_attn.v_proj",
        "attn_output": "self_attn.o_proj",
        "ffn_gate": "mlp.gate_proj",
        "ffn_up": "mlp.up_proj",
        "ffn_down": "mlp.down_proj",
    ]

    /// The Hugging Face name of a llama.cpp tensor name, or nil for a tensor without one (e.g. `rope_freqs.weight`,
    /// which holds precomputed Llama 3 rope factors that transformers derives from the config instead).
    public static func huggingFaceName(of name: String) -> String? {
        if let global = global[name] { return global }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "blk", let block = Int(parts[1]), block >= 0,
              String(block) == parts[1], let module = perBlock[String(parts[2])],
              parts[3] == "weight" || parts[3] == "bias" else { return nil }
        return "model.layers.\(block).\(module).\(parts[3])"
    }
}
