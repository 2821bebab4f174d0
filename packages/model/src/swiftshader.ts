/**
 * Finding SwiftShader, a CPU implementation of Vulkan, so that WebGPU runs (slowly, correctly) on a
 * machine without a GPU: Debian's `chromium` package ships it with its ICD file.
 */
import { existsSync } from "node:fs";

/** Where Linux distributions' Chromium packages put SwiftShader's Vulkan ICD file. */
const KNOWN_ICD_FILES = [
  "/usr/lib/chromium/vk_swiftshader_icd.json",
  "/usr/lib64/chromium-browser/vk_swiftshader_icd.json",
  "/usr/lib/chromium-browser/vk_swiftshader_icd.json",
];

/**
 * The Vulkan ICD file WebGPU tests should use: `VK_ICD_FILENAMES` when set, else SwiftShader's from an
 * installed Chromium (`apt-get install chromium libvulkan1`), else `null`.
 */
export function findVulkanIcdForTests(): string | null {
  const configured = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  if (configured !== undefined && configured !== "") {
    return configured;
  }
  return KNOWN_ICD_FILES.find((path) => existsSync(path)) ?? null;
}

/**
 * The vitest settings of a WebGPU suite: its files and the Vulkan driver to use, or no files and a
 * warning where no driver is found; under `CI=true` a missing driver throws instead (CI must not skip).
 */
export function webgpuSuite(include: string[]): {
  include: string[];
  env: Record<string, string>;
  passWithNoTests: boolean;
} {
  const icd = findVulkanIcdForTests();
  if (icd === null) {
    const message =
      "no Vulkan driver for the WebGPU tests: apt-get install chromium libvulkan1, or set VK_ICD_FILENAMES";
    if (process.env.CI === "true") {
      throw new Error(message);
    }
    console.warn(`skipping the WebGPU suite: ${message}`);
    return { include: [], env: {}, passWithNoTests: true };
  }
  return { include, env: { VK_ICD_FILENAMES: icd }, passWithNoTests: true };
}
