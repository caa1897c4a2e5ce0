import { z } from '../../lib/zod.js';
import { defineTemplate, html, layout } from '../template.js';

export const LowStockDigestEmail = z.object({
  to: z.email(),
  businessName: z.string().min(1),
  products: z
    .array(
      z.object({
        name: z.string(),
        sku: z.string().nullable(),
        stockQuantity: z.number(),
        lowStockThreshold: z.number(),
      }),
    )
    .min(1),
});

export const lowStockDigestTemplate = defineTemplate({
  name: 'low-stock-digest',
  schema: LowStockDigestEmail,
  render: (data) => {
    const count = data.products.length;
    const subject = `${data.businessName}: ${count} product${count === 1 ? '' : 's'} low on stock`;
    return {
      subject,
      text: [
        `These products of ${data.businessName} are at or below their low-stock level:`,
        '',
        ...data.products.map(
          (product) =>
            `- ${product.name}${product.sku ? ` (${product.sku})` : ''}: ${product.stockQuantity} left (alert at ${product.lowStockThreshold})`,
        ),
      ].join('\n'),
      html: layout(
        subject,
        html`<h1 style="font-size:20px">Low stock at ${data.businessName}</h1>
          <table style="width:100%;border-collapse:collapse">
            <tr>
              <th style="text-align:left">Product</th>
              <th style="text-align:left">SKU</th>
              <th style="text-align:right">In stock</th>
              <th style="text-align:right">Alert at</th>
            </tr>
            ${data.products.map(
              (product) =>
                html`<tr>
                  <td>${product.name}</td>
                  <td>${product.sku ?? ''}</td>
                  <td style="text-align:right">${product.stockQuantity}</td>
                  <td style="text-align:right">${product.lowStockThreshold}</td>
                </tr>`,
            )}
          </table>`,
      ),
    };
  },
});
