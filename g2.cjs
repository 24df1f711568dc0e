const g = require('gstreamer-superficial');
const p = new g.Pipeline(process.argv[2]);
const sink = p.findChild('sink');
let n=0;
p.pollBus(msg=>{ if(['error','eos','warning'].includes(msg.type)) console.log('BUS', JSON.stringify(msg).slice(0,400)); });
function onData(buf, caps){ if(n===0 && caps) console.log('CAPS', JSON.stringify(caps)); if(buf){ n++; if(n<5) sink.pull(onData); else { p.stop(); process.exit(0);} } else console.log('null buf', caps) }
p.play(); sink.pull(onData);
setTimeout(()=>{console.log('timeout n=',n);process.exit(0)},5000);
