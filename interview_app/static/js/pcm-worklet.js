// The microphone as 16 kHz mono PCM for live transcription: the AudioContext runs at
// 16 kHz (the browser resamples), and this hands its 128-sample frames to the page,
// which sends them in quarter-second pieces as audio/L16.
class PcmTap extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel && channel.length) this.port.postMessage(channel.slice(0));
    return true;
  }
}
registerProcessor("pcm-tap", PcmTap);
