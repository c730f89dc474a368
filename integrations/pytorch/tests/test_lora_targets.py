"""LoRA targets default to the architecture's, as in xright's engine (no torch work: the config is all it reads)."""

import types
import unittest

from xright_bridge.errors import SettingError
from xright_bridge.train import LLAMA_LORA_TARGETS, default_lora_targets


def model_of_type(model_type):
    return types.SimpleNamespace(config=types.SimpleNamespace(model_type=model_type))


class LoRATargetTests(unittest.TestCase):
    def test_gpt_neox_adapts_the_fused_attention_projection(self):
        self.assertEqual(default_lora_targets(model_of_type("gpt_neox")), ["query_key_value"])

    def test_llama_family_adapts_all_seven_projections(self):
        for model_type in ("llama", "qwen2", "mistral"):
            self.assertEqual(default_lora_targets(model_of_type(model_type)), LLAMA_LORA_TARGETS)
        self.assertEqual(len(LLAMA_LORA_TARGETS), 7)

    def test_unknown_architecture_asks_for_explicit_targets(self):
        with self.assertRaises(SettingError) as caught:
            default_lora_targets(model_of_type("gemma2"))
        self.assertIn("--lora-targets", str(caught.exception))
        self.assertIn("gemma2", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
