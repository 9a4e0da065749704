// kizon's reading page: marking lesions, scrolling frames, windows, zoom and pan.
// Plain JavaScript served from the binary under `script-src 'self'`: no framework, no build
// chain, nothing fetched from elsewhere. Without it the page still records a label and score.
(() => {
  'use strict';
  const root = document.getElementById('reading');
  if (!root) return;
  const csrfInput = document.querySelector('input[name=csrf]');
  const csrf = csrfInput ? csrfInput.value : '';
  const caseId = root.dataset.case;
  const marking = root.dataset.marking === 'true';
  const dataNode = document.getElementById('marks-data');
  const marks = new Map((dataNode ? JSON.parse(dataNode.textContent) : []).map(m => [m.id, m]));
  const scale = root.dataset.scale ? root.dataset.scale.split(' ') : null;
  let selected = null;
  let tool = 'box';

  const say = (text) => {
    let p = document.getElementById('reading-status');
    if (!p) {
      p = document.createElement('p');
      p.id = 'reading-status';
      p.setAttribute('role', 'status');
      root.prepend(p);
    }
    p.className = text ? 'error' : '';
    p.textContent = text;
  };

  const api = async (method, path, body) => {
    const response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error((json.error || response.status) + (json.hint ? ' — ' + json.hint : ''));
    }
    return json;
  };
  const base = '/api/reading/' + encodeURIComponent(caseId);

  // ---- tools ----
  const toolButtons = [...document.querySelectorAll('#tools [data-tool]')];
  const setTool = (name) => {
    tool = name;
    toolButtons.forEach(b => b.classList.toggle('active', b.dataset.tool === name));
    viewers.forEach(v => v.cancel());
  };
  toolButtons.forEach(b => b.addEventListener('click', () => setTool(b.dataset.tool)));
  const lesionType = document.getElementById('lesion-type');
  const rating = document.getElementById('mark-rating');
  const currentAttributes = () => {
    const attributes = {};
    if (lesionType) attributes.lesion_type = lesionType.value;
    if (rating && rating.value !== '') attributes.rating = Number(rating.value);
    return attributes;
  };

  // ---- the list of marks ----
  const list = document.getElementById('marks');
  const label = (m) => {
    const parts = [m.shape];
    if (m.lesion_type) parts.push(m.lesion_type);
    if (m.rating !== undefined && m.rating !== null) parts.push('★ ' + m.rating);
    parts.push('#' + m.frame);
    return parts.join(' · ');
  };
  const renderList = () => {
    if (!list) return;
    list.textContent = '';
    for (const m of marks.values()) {
      const li = document.createElement('li');
      li.dataset.mark = m.id;
      li.className = m.id === selected ? 'selected' : '';
      const text = document.createElement('span');
      text.textContent = label(m);
      text.addEventListener('click', () => select(m.id));
      li.append(text);
      if (marking) {
        const update = document.createElement('button');
        update.type = 'button';
        update.className = 'update-mark';
        update.textContent = document.documentElement.lang === 'ja' ? '種類・確信度を更新' : 'apply type and rating';
        update.addEventListener('click', () => replace(m.id));
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'delete-mark';
        remove.textContent = '×';
        remove.title = document.documentElement.lang === 'ja' ? '削除 (Delete)' : 'delete (Delete)';
        remove.addEventListener('click', () => removeMark(m.id));
        li.append(' ', update, ' ', remove);
      }
      list.append(li);
    }
  };
  const select = (id) => {
    selected = id;
    renderList();
    viewers.forEach(v => v.drawMarks());
  };

  const addMark = async (viewer, shape, points) => {
    const at = viewer.current();
    const mark = Object.assign(
      { item: at.item, frame: at.frame, shape, points: points.map(p => [round(p[0]), round(p[1])]) },
      currentAttributes(),
    );
    let saved = false;
    try {
      const held = await api('POST', base + '/marks', mark);
      marks.set(held.id, held);
      selected = held.id;
      saved = true;
      say('');
    } catch (e) {
      say(e.message);
    }
    renderList();
    viewers.forEach(v => v.drawMarks());
    return saved;
  };
  const removeMark = async (id) => {
    try {
      await api('DELETE', base + '/marks/' + id);
      marks.delete(id);
      if (selected === id) selected = null;
      say('');
    } catch (e) {
      say(e.message);
    }
    renderList();
    viewers.forEach(v => v.drawMarks());
  };
  // A changed type or rating is a new mark in place of the old: both stay in the audit trail.
  const replace = async (id) => {
    const old = marks.get(id);
    if (!old) return;
    const viewer = viewers.find(v => v.holds(old.item));
    if (!viewer) return;
    const position = viewer.frame;
    viewer.frame = viewer.stack ? viewer.stack.indexOf(old.item) : old.frame;
    const saved = await addMark(viewer, old.shape, old.points);
    viewer.frame = position;
    // The old mark goes only once its replacement is saved: a refused change loses nothing.
    if (saved) await removeMark(id);
  };
  const round = (v) => Math.round(v * 10) / 10;

  // ---- one viewer per image ----
  const SVG = 'http://www.w3.org/2000/svg';
  const viewers = [...document.querySelectorAll('.viewer[data-item]')].map(node => {
    const v = {
      node,
      item: Number(node.dataset.item),
      frames: Number(node.dataset.frames),
      frame: Number(node.dataset.frame),
      width: Number(node.dataset.width),
      height: Number(node.dataset.height),
      zoom: 1, panX: 0, panY: 0,
      img: node.querySelector('img.frame'),
      video: node.querySelector('video.frame'),
      fps: Number(node.dataset.fps) || 0,
      svg: node.querySelector('svg.overlay'),
      stage: node.querySelector('.stage'),
      form: node.querySelector('form'),
      drawing: null,
      // The single-frame images of a series, scrolled through as its frames.
      stack: node.dataset.stack ? node.dataset.stack.split(' ').map(Number) : null,
    };
    // What is shown: an item and its frame.
    v.current = () => v.stack ? { item: v.stack[v.frame], frame: 0 } : { item: v.item, frame: v.frame };
    v.holds = (item) => v.stack ? v.stack.includes(item) : v.item === item;
    const input = (name) => v.form.querySelector('input[name=' + name + ']');
    const frameInput = input('frame');
    const wc = input('wc');
    const ww = input('ww');
    const presets = v.form.querySelector('select.presets');
    // A video: the frame shown is the one at the paused time; marks go on a paused frame.
    if (v.video) {
      const video = v.video;
      node.classList.add('scripted');
      video.controls = false;
      const fps = () => v.fps || (video.duration > 0 ? v.frames / video.duration : 0);
      const button = (text, title, action) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = text;
        b.title = title;
        b.addEventListener('click', action);
        v.form.prepend(b);
        return b;
      };
      const ja = document.documentElement.lang === 'ja';
      button('▶︎ / ❚❚', ja ? '再生・一時停止 (Space)' : 'play / pause (Space)', () => v.toggle()).className = 'play';
      v.toggle = () => {
        if (video.paused) video.play().catch(() => {});
        else video.pause();
      };
      const follow = () => {
        const rate = fps();
        const at = rate ? Math.floor(video.currentTime * rate + 1e-6) : 0;
        const frame = Math.min(v.frames - 1, Math.max(0, at));
        if (frame !== v.frame) {
          v.frame = frame;
          if (frameInput) frameInput.value = frame;
        }
        v.drawMarks();
      };
      video.addEventListener('timeupdate', follow);
      video.addEventListener('seeked', follow);
      video.addEventListener('pause', follow);
      v.show = () => {
        video.pause();
        const rate = fps();
        // The middle of the frame's display time, so that rounding never lands on a neighbour.
        if (rate) video.currentTime = (v.frame + 0.5) / rate;
        if (frameInput) frameInput.value = v.frame;
        v.drawMarks();
      };
      v.playing = () => !video.paused;
    }
    const url = (position) => {
      const item = v.stack ? v.stack[position] : v.item;
      let u = '/items/' + item + '/frame.png?frame=' + (v.stack ? 0 : position);
      if (wc.value !== '' && ww.value !== '') u += '&wc=' + encodeURIComponent(wc.value) + '&ww=' + encodeURIComponent(ww.value);
      return u;
    };
    // Frames around the current one are fetched ahead, so that scrolling does not wait.
    const cache = new Map();
    const prefetch = () => {
      if (v.video) return;
      for (let d = 1; d <= 3; d++) {
        for (const f of [v.frame + d, v.frame - d]) {
          if (f < 0 || f >= v.frames) continue;
          const u = url(f);
          if (!cache.has(u)) {
            const image = new Image();
            image.src = u;
            cache.set(u, image);
          }
        }
      }
      if (cache.size > 64) cache.clear();
    };
    if (!v.video) {
      v.show = () => {
        v.img.src = url(v.frame);
        if (frameInput) frameInput.value = v.frame;
        v.drawMarks();
        prefetch();
      };
      v.playing = () => false;
    }
    v.step = (by) => {
      const next = Math.min(v.frames - 1, Math.max(0, v.frame + by));
      if (next !== v.frame) {
        v.frame = next;
        v.show();
      }
    };
    // The first frame's value range fills the window fields when they are empty.
    if (v.img && wc && ww && wc.value === '' && ww.value === '') {
      fetch(url(v.frame), { credentials: 'same-origin' }).then(r => {
        const range = (r.headers.get('x-kizon-value-range') || '').split(' ').map(Number);
        if (range.length === 2 && range.every(Number.isFinite)) {
          wc.placeholder = String((range[0] + range[1]) / 2);
          ww.placeholder = String(Math.max(1, range[1] - range[0]));
        }
      }).catch(() => {});
    }
    if (presets) {
      presets.addEventListener('change', () => {
        const [c, w] = presets.value.split(' ');
        wc.value = c || '';
        ww.value = w || '';
        cache.clear();
        v.show();
      });
    }
    v.form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (frameInput) v.frame = Math.min(v.frames - 1, Math.max(0, Number(frameInput.value) || 0));
      if (v.video) {
        v.show();
        return;
      }
      cache.clear();
      v.show();
    });
    v.applyTransform = () => {
      v.stage.style.transform = 'translate(' + v.panX + 'px,' + v.panY + 'px) scale(' + v.zoom + ')';
    };
    v.zoomBy = (factor) => {
      v.zoom = Math.min(16, Math.max(0.25, v.zoom * factor));
      v.applyTransform();
    };
    v.reset = () => {
      v.zoom = 1; v.panX = 0; v.panY = 0;
      v.applyTransform();
    };
    node.addEventListener('wheel', (event) => {
      event.preventDefault();
      if (event.ctrlKey) v.zoomBy(event.deltaY < 0 ? 1.25 : 0.8);
      else v.step(event.deltaY > 0 ? 1 : -1);
    }, { passive: false });

    // Pixel coordinates of a pointer event in the frame.
    const at = (event) => {
      const point = v.svg.createSVGPoint();
      point.x = event.clientX;
      point.y = event.clientY;
      const p = point.matrixTransform(v.svg.getScreenCTM().inverse());
      return [Math.min(v.width, Math.max(0, p.x)), Math.min(v.height, Math.max(0, p.y))];
    };
    const element = (name, attributes) => {
      const e = document.createElementNS(SVG, name);
      for (const [k, value] of Object.entries(attributes)) e.setAttribute(k, value);
      return e;
    };
    const shapeElement = (shape, p) => {
      if (shape === 'point') return element('circle', { cx: p[0][0], cy: p[0][1], r: 3 });
      if (shape === 'circle') return element('circle', { cx: p[0][0], cy: p[0][1], r: Math.hypot(p[1][0] - p[0][0], p[1][1] - p[0][1]) });
      if (shape === 'box') return element('rect', {
        x: Math.min(p[0][0], p[1][0]), y: Math.min(p[0][1], p[1][1]),
        width: Math.abs(p[1][0] - p[0][0]), height: Math.abs(p[1][1] - p[0][1]),
      });
      return element(p.length > 2 ? 'polygon' : 'polyline', { points: p.map(q => q.join(',')).join(' ') });
    };
    v.drawMarks = () => {
      v.svg.textContent = '';
      const at = v.current();
      for (const m of marks.values()) {
        if (m.item !== at.item || m.frame !== at.frame) continue;
        const e = shapeElement(m.shape, m.points);
        e.classList.add('mark');
        if (m.id === selected) e.classList.add('selected');
        e.dataset.mark = m.id;
        v.svg.append(e);
      }
      if (v.drawing && v.drawing.points.length) {
        const e = shapeElement(v.drawing.shape, v.drawing.preview || v.drawing.points);
        e.classList.add('drawing');
        v.svg.append(e);
      }
    };
    v.cancel = () => {
      v.drawing = null;
      v.drawMarks();
    };
    v.finishPolygon = () => {
      if (v.drawing && v.drawing.shape === 'polygon' && v.drawing.points.length >= 3) {
        const points = v.drawing.points;
        v.drawing = null;
        addMark(v, 'polygon', points);
      }
    };
    let panning = null;
    v.svg.addEventListener('pointerdown', (event) => {
      activeViewer = v;
      // A playing video is paused by a press; its frame is marked once it stands still.
      if (v.playing()) {
        v.toggle();
        return;
      }
      const hit = event.target.dataset && event.target.dataset.mark;
      if (hit && !v.drawing) {
        select(Number(hit));
        return;
      }
      if (tool === 'pan' || !marking || event.button === 1) {
        panning = { x: event.clientX - v.panX, y: event.clientY - v.panY };
        v.svg.setPointerCapture(event.pointerId);
        return;
      }
      const p = at(event);
      if (tool === 'point') {
        addMark(v, 'point', [p]);
      } else if (tool === 'polygon') {
        if (!v.drawing) v.drawing = { shape: 'polygon', points: [] };
        v.drawing.points.push(p);
        v.drawMarks();
      } else {
        v.drawing = { shape: tool, points: [p], preview: null };
        v.svg.setPointerCapture(event.pointerId);
      }
    });
    v.svg.addEventListener('pointermove', (event) => {
      if (panning) {
        v.panX = event.clientX - panning.x;
        v.panY = event.clientY - panning.y;
        v.applyTransform();
        return;
      }
      if (!v.drawing) return;
      const p = at(event);
      v.drawing.preview = v.drawing.shape === 'polygon' ? v.drawing.points.concat([p]) : [v.drawing.points[0], p];
      v.drawMarks();
    });
    v.svg.addEventListener('pointerup', (event) => {
      if (panning) {
        panning = null;
        return;
      }
      if (!v.drawing || v.drawing.shape === 'polygon') return;
      const start = v.drawing.points[0];
      const end = at(event);
      const shape = v.drawing.shape;
      v.drawing = null;
      if (Math.hypot(end[0] - start[0], end[1] - start[1]) < 1) {
        v.drawMarks();
        return;
      }
      addMark(v, shape, [start, end]);
    });
    v.svg.addEventListener('dblclick', (event) => {
      event.preventDefault();
      if (v.drawing && v.drawing.shape === 'polygon') {
        // The double click's second press added a vertex on the first one's place.
        v.drawing.points.pop();
        v.finishPolygon();
      }
    });
    node.addEventListener('pointerenter', () => { activeViewer = v; });
    v.drawMarks();
    prefetch();
    return v;
  });

  // ---- keys ----
  // The viewer the pointer was last over takes the keys (the first one until then).
  let activeViewer = null;
  const active = () => activeViewer || viewers[0];
  document.addEventListener('keydown', (event) => {
    const target = event.target;
    if (target && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA')) return;
    const v = active();
    const key = event.key;
    const tools = { p: 'point', c: 'circle', b: 'box', g: 'polygon', h: 'pan' };
    if (marking && tools[key.toLowerCase()]) setTool(tools[key.toLowerCase()]);
    else if (v && (key === 'ArrowDown' || key === 'PageDown' || key === 'j')) v.step(1);
    else if (v && (key === 'ArrowUp' || key === 'PageUp' || key === 'k')) v.step(-1);
    else if (v && (key === '+' || key === '=')) v.zoomBy(1.25);
    else if (v && key === '-') v.zoomBy(0.8);
    else if (v && key === '0') v.reset();
    else if (v && key === 'Enter') v.finishPolygon();
    else if (v && v.video && key === ' ') v.toggle();
    else if (v && v.video && key === 'ArrowRight') v.step(1);
    else if (v && v.video && key === 'ArrowLeft') v.step(-1);
    else if (key === 'Escape') viewers.forEach(x => x.cancel());
    else if ((key === 'Delete' || key === 'Backspace') && marking && selected !== null) removeMark(selected);
    else if (['1', '2', '3'].includes(key)) {
      const radio = document.querySelectorAll('#read-form input[name=label]')[Number(key) - 1];
      if (radio) radio.checked = true;
    } else if (key === 'n' && root.dataset.next) {
      window.location.href = '/reading/' + encodeURIComponent(root.dataset.next);
    } else return;
    event.preventDefault();
  });

  // ---- pause ----
  const pause = document.getElementById('pause');
  if (pause) {
    pause.addEventListener('click', async (event) => {
      event.preventDefault();
      try {
        await api('POST', '/api/reading/pause', {});
      } catch (e) {
        say(e.message);
        return;
      }
      window.location.href = '/reading';
    });
  }
  if (scale && rating) rating.title = scale[0] + '–' + scale[1];
  renderList();
})();
